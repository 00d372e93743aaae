"""Pure Block Kit builders: DTOs in, `slack_sdk.models` blocks out. No I/O here."""
