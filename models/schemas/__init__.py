"""Pydantic DTOs that services return and blocks render; one module per domain."""
