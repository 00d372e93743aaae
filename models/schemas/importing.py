"""DTOs every importer (assets, engagements, the roster) shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ImportProblem(BaseModel):
    """One thing wrong in an import file: where (item N / line N), which field, and what to do."""

    model_config = ConfigDict(frozen=True)

    where: str
    field: str | None = None
    message: str

    def line(self, source: str) -> str:
        """`SOURCE: item 3, field timezone: …`, or `SOURCE: …` for a problem of the file as a whole."""
        where = ", ".join(part for part in (self.where, f"field {self.field}" if self.field else "") if part)
        return f"{source}: {where}: {self.message}" if where else f"{source}: {self.message}"
