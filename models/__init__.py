"""Every table of epos; importing this package registers them all on `Base.metadata`."""

from models.assets import Asset, AssetFeedback, AssetImport, AssetImportChange, AssetShare, SearchMiss
from models.base import Base
from models.checklists import ChecklistTick
from models.devrel import DevRelPerson, DevRelRequest, DevRelRequestEvent, DevRelRequestMessage
from models.engagements import (
    Engagement,
    EngagementNote,
    EsatSurvey,
    PlaybookPost,
    PlaybookPostAsset,
    StageChange,
    StageStint,
)
from models.hooks import StageHookCall
from models.imports import DataImport, RosterImportChange
from models.pilots import Pilot, PilotMember
from models.ops import AuditEntry, JobClaim, ProcessedDelivery, SchedulerTick, SlackUser
from models.usage import UsageDay

__all__ = [
    "Asset",
    "AssetFeedback",
    "AssetImport",
    "AssetImportChange",
    "AssetShare",
    "AuditEntry",
    "ChecklistTick",
    "DataImport",
    "Base",
    "DevRelPerson",
    "DevRelRequest",
    "DevRelRequestEvent",
    "DevRelRequestMessage",
    "Engagement",
    "EngagementNote",
    "EsatSurvey",
    "PlaybookPost",
    "PlaybookPostAsset",
    "JobClaim",
    "Pilot",
    "PilotMember",
    "ProcessedDelivery",
    "RosterImportChange",
    "SchedulerTick",
    "SearchMiss",
    "SlackUser",
    "StageChange",
    "StageHookCall",
    "StageStint",
    "UsageDay",
]
