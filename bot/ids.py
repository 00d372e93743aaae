"""Every callback_id, action_id and block_id, shared by the blocks that render them and the handlers
that listen for them. One class per domain; values are stable (they live on in posted messages)."""

from __future__ import annotations

from enum import StrEnum


class AssetIds(StrEnum):
    pass


class EngagementIds(StrEnum):
    pass


class DevRelIds(StrEnum):
    pass


class HomeIds(StrEnum):
    pass


class NudgeIds(StrEnum):
    pass
