"""DTOs of the stage webhooks: a call in the outbox, as the job sends it and admins read about it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from models.enums import Stage


class HookCall(BaseModel):
    model_config = ConfigDict(frozen=True)

    delivery_id: str
    engagement_id: int
    account: str
    opportunity: str
    stage: Stage
    event: Literal["entered", "left"]
    url: str
    body: str
    status: Literal["pending", "delivered", "gave_up"]
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None = None
    last_error: str = ""
