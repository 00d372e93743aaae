"""Field assets: the one name handlers, jobs and the command line call the catalogue by.

Each idea lives in a module of its own, and this one gathers their public names:

- `bot.services.asset_reading`: search, recommendations, one asset, the review and owner lists, rights;
- `bot.services.asset_curation`: adding, editing, publishing, archiving and restoring;
- `bot.services.asset_feedback`: votes and shares;
- `bot.services.asset_import`: the catalogue as a YAML or CSV file, in and out;
- `bot.services.asset_index`: the in-memory search index and how it keeps up with the catalogue.
"""

from __future__ import annotations

from bot.services.asset_curation import (
    ALREADY,
    ARCHIVE_REFUSED,
    CONTENT_FIELDS,
    DUPLICATE_URL,
    ENTITY,
    PUBLISH_REFUSED,
    RESTORE_REFUSED,
    SIMILAR_TITLE,
    SIMILAR_TITLE_RATIO,
    archive,
    create,
    link_change_needs_review,
    publish,
    restore,
    update,
)
from bot.services.asset_feedback import record_share, vote
from bot.services.asset_import import (
    ABANDONED_AFTER,
    CATALOGUE_CHANGED,
    EDITED_MEANWHILE,
    EXPORT_FIELDS,
    IMPORT_RUNNING,
    IMPORT_STOPPED,
    YAML_SHAPE,
    check_file,
    export_records,
    import_file,
    import_records,
    parse_catalogue,
    render_export,
)
from bot.services.asset_index import reset_index, warm_index, warm_index_in_background
from bot.services.asset_reading import (
    DRAFTS_REFUSED,
    EDIT_REFUSED,
    LIST_MAX,
    MAX_PAGE_SIZE,
    MISS_QUERY_MAX,
    NOT_FOUND,
    NOT_PUBLISHED,
    PAGE_SIZE,
    drafts,
    editable,
    get,
    owned_by,
    published,
    published_count,
    recommend,
    record_miss,
    rights,
    search,
    with_topics,
)
from models.schemas.assets import AssetRecord, SearchPage

__all__ = [
    "ABANDONED_AFTER",
    "ALREADY",
    "ARCHIVE_REFUSED",
    "CATALOGUE_CHANGED",
    "CONTENT_FIELDS",
    "DRAFTS_REFUSED",
    "DUPLICATE_URL",
    "EDITED_MEANWHILE",
    "EDIT_REFUSED",
    "ENTITY",
    "EXPORT_FIELDS",
    "IMPORT_RUNNING",
    "IMPORT_STOPPED",
    "LIST_MAX",
    "MAX_PAGE_SIZE",
    "MISS_QUERY_MAX",
    "NOT_FOUND",
    "NOT_PUBLISHED",
    "PAGE_SIZE",
    "PUBLISH_REFUSED",
    "RESTORE_REFUSED",
    "SIMILAR_TITLE",
    "SIMILAR_TITLE_RATIO",
    "YAML_SHAPE",
    "AssetRecord",
    "SearchPage",
    "archive",
    "check_file",
    "create",
    "drafts",
    "editable",
    "export_records",
    "get",
    "import_file",
    "import_records",
    "link_change_needs_review",
    "owned_by",
    "parse_catalogue",
    "publish",
    "published",
    "published_count",
    "recommend",
    "record_miss",
    "record_share",
    "render_export",
    "reset_index",
    "restore",
    "rights",
    "search",
    "update",
    "with_topics",
    "vote",
    "warm_index",
    "warm_index_in_background",
]
