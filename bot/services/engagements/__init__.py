"""Engagements along the EPOS stages: opening, stage changes (append-only log), closing, notes, undo,
the card, lists, the App Home's data, and stale detection for nudges.

Who may change an engagement: its owner SE, its seller, EPOS_MANAGERS and EPOS_ADMINS. The presales team
(see `actors.in_presales`) may read cards, lists and figures. Every read and write checks this here,
whichever surface it came from.

One module per idea: `wording` (stages and accounts as people type them), `changes` (opening, stage
changes, closing, undo, reopening, notes), `reading` (cards, lists, the playbook post, the App Home,
figures), `stale`, `import_export`, `practice` (one to learn on, counted nowhere) and `common` (who
may change, loading, the summary). Callers use the names below, from this package.
"""

from bot.services.engagements.changes import (
    BACKDATE_TIME,
    ESAT_REMIND_AFTER,
    FOCUS_LIMIT,
    NAME_LIMIT,
    NOTE_LIMIT,
    SLACK_CHANNEL,
    SLACK_USER,
    TEXT_LIMIT,
    add_note,
    change_stage,
    close,
    create,
    effective_moment,
    local_day,
    reopen,
    set_channel,
    undo,
)
from bot.services.engagements.common import (
    BACKDATED_AFTER,
    ENTITY,
    IMPORT_ACTOR,
    PRACTICE_ENTITY,
    may_change,
    summary,
)
from bot.services.engagements.import_export import (
    ENGAGEMENT_BATCH,
    EXPORT_FIELDS,
    HISTORY_AT,
    HISTORY_SEPARATOR,
    IMPORT_KIND,
    IMPORT_RUNNING,
    REQUIRED_COLUMNS,
    YAML_SHAPE,
    check_file,
    export_records,
    import_file,
    import_records,
    parse_import,
    render_export,
    validate_records,
)
from bot.services.engagements.practice import delete_practice, open_practice
from bot.services.engagements.practice import start as start_practice
from bot.services.engagements.reading import (
    CARD_LIST_LIMIT,
    HOME_PAGE_SIZE,
    HOME_WINDOW,
    PAGE_SIZE,
    TIMELINE_LIMIT,
    card,
    figures,
    for_change,
    get,
    home,
    list_engagements,
    need_topics_in,
    playbook_post,
)
from bot.services.engagements.stale import stale_after, stale_counts, stale_cutoff, stale_engagements, stale_owners
from bot.services.engagements.wording import (
    ACCOUNT_CONFIDENT,
    ACCOUNT_UNSURE,
    CLOSING_WORDS,
    MAX_CANDIDATES,
    OUTCOME_ALIASES,
    STAGE_ALIASES,
    STAGE_FUZZY_CUTOFF,
    closed_named,
    interpret,
    match_account,
    match_stage,
    normalize,
    parse_outcome,
    split_close,
    suggestions,
    unknown_outcome,
)
from models.enums import Stage  # callers read it as `engagements.Stage`

__all__ = [
    "ACCOUNT_CONFIDENT", "ACCOUNT_UNSURE", "BACKDATED_AFTER", "BACKDATE_TIME", "CARD_LIST_LIMIT", "CLOSING_WORDS",
    "ENGAGEMENT_BATCH", "ENTITY", "ESAT_REMIND_AFTER", "EXPORT_FIELDS", "FOCUS_LIMIT", "HISTORY_AT",
    "HISTORY_SEPARATOR", "HOME_PAGE_SIZE", "HOME_WINDOW", "IMPORT_ACTOR", "IMPORT_KIND", "IMPORT_RUNNING",
    "MAX_CANDIDATES", "NAME_LIMIT", "NOTE_LIMIT", "OUTCOME_ALIASES", "PAGE_SIZE", "PRACTICE_ENTITY", "REQUIRED_COLUMNS",
    "SLACK_CHANNEL", "SLACK_USER", "STAGE_ALIASES", "STAGE_FUZZY_CUTOFF", "TEXT_LIMIT", "TIMELINE_LIMIT",
    "YAML_SHAPE", "Stage",
    "add_note", "card", "change_stage", "check_file", "close", "closed_named", "create", "delete_practice",
    "effective_moment", "export_records", "open_practice", "start_practice",
    "figures", "for_change", "get", "home", "import_file", "import_records", "interpret", "list_engagements", "need_topics_in",
    "local_day", "match_account", "match_stage", "may_change", "normalize", "parse_import", "parse_outcome",
    "playbook_post", "render_export", "reopen", "set_channel", "split_close", "stale_after", "stale_counts", "stale_cutoff",
    "stale_engagements", "stale_owners", "suggestions", "summary", "undo", "unknown_outcome", "validate_records",
]
