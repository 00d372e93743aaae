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
        field = f", field {self.field}" if self.field else ""
        return f"{source}: {self.where}{field}: {self.message}"
