"""Every callback_id, action_id and block_id, shared by the blocks that render them and the handlers
that listen for them. One class per domain; values are stable (they live on in posted messages). What a
button's value or a form's private_metadata carries is a typed codec in `bot.codecs`."""

from __future__ import annotations

from enum import StrEnum


class AssetIds(StrEnum):
    # Modals: add and edit share one form; the edit form carries `codecs.AssetForm`.
    add_modal = "asset_add"
    edit_modal = "asset_edit"
    # Input blocks of the form; every input's action_id is `field`.
    title_block = "asset_title"
    type_block = "asset_type"
    summary_block = "asset_summary"
    url_block = "asset_url"
    topics_block = "asset_topics"
    products_block = "asset_products"
    depth_block = "asset_depth"
    scope_block = "asset_scope"
    interactivity_block = "asset_interactivity"
    cycle_block = "asset_cycle"
    owner_block = "asset_owner"
    audience_block = "asset_audience"
    parts_block = "asset_parts"
    partner_block = "asset_partner"
    verifier_block = "asset_verifier"
    review_days_block = "asset_review_days"
    field = "asset_field"
    # Buttons on a card; value: `codecs.AssetButton`.
    share = "asset_share"
    # Sharing into a conversation with another organisation in it, after the confirmation naming it.
    share_confirmed = "asset_share_confirmed"
    share_cancelled = "asset_share_cancelled"
    useful = "asset_useful"
    not_useful = "asset_not_useful"
    edit = "asset_edit_open"
    publish = "asset_publish"
    archive = "asset_archive"
    restore = "asset_restore"
    # The review DM: Verify (still true; value `codecs.AssetButton`), and the admins' one-click Archive of
    # an asset long overdue for review (admins only).
    verify = "asset_verify"
    archive_proposed = "asset_archive_proposed"
    # Buttons on a result list: paging (value: `codecs.AssetPage`), a did-you-mean suggestion
    # (`asset_rerun:N`, value = the query to run), and opening the add form.
    next_page = "asset_next_page"
    previous_page = "asset_previous_page"
    rerun = "asset_rerun"
    add_open = "asset_add_open"


class EngagementIds(StrEnum):
    # Modals. Their private_metadata: `codecs.EngagementForm` (the ESAT comment form: `codecs.SurveyForm`).
    new_modal = "engagement_new"
    stage_modal = "engagement_stage"
    close_modal = "engagement_close"
    note_modal = "engagement_note"
    esat_comment_modal = "engagement_esat_comment"
    channel_modal = "engagement_deal_channel"
    # A message added as a note from its shortcut; private_metadata: `codecs.EngagementForm` (no engagement).
    message_note_modal = "engagement_message_note"
    # Input blocks; every input's action_id is `field`.
    account_block = "engagement_account"
    opportunity_block = "engagement_opportunity"
    seller_block = "engagement_seller"
    focus_block = "engagement_focus"
    focus_other_block = "engagement_focus_other"
    challenge_block = "engagement_challenge"
    needs_block = "engagement_needs"
    # Picked from the challenge map; each block_id carries `:focus` (`:challenge` for the needs), so a
    # views.update after a new focus or challenge starts those choices afresh instead of keeping stale ones.
    challenge_pick_block = "engagement_challenge_pick"
    needs_pick_block = "engagement_needs_pick"
    channel_block = "engagement_channel"
    start_stage_block = "engagement_start_stage"
    opened_block = "engagement_opened"
    target_stage_block = "engagement_target_stage"
    effective_date_block = "engagement_effective_date"
    outcome_block = "engagement_outcome"
    note_block = "engagement_note_text"
    comment_block = "engagement_esat_comment_text"
    engagement_block = "engagement_pick"
    field = "engagement_field"
    # Buttons whose value is `codecs.EngagementButton`; usable from any message (card, nudge DM, App Home).
    # Listeners also accept these action ids with a `:suffix` (`engagement_add_note:42`), so one
    # message may hold several of the same kind in one actions block.
    change_stage = "engagement_change_stage"
    close = "engagement_close_open"
    add_note = "engagement_add_note"
    reopen = "engagement_reopen"
    show_card = "engagement_show_card"
    new = "engagement_new_open"
    set_channel = "engagement_set_channel"
    # Only on a practice engagement's card, with a confirmation.
    delete_practice = "engagement_delete_practice"
    # value: `codecs.StageChoice`, a did-you-mean or picker choice.
    confirm_change = "engagement_confirm_change"
    # value: `codecs.CloseChoice`.
    confirm_close = "engagement_confirm_close"
    # value: `codecs.ChangeButton`.
    undo = "engagement_undo"
    # value: `codecs.ListPage`.
    list_page = "engagement_list_page"
    # ESAT: `engagement_esat_score:N` and the comment form opener; value: `codecs.SurveyButton`.
    esat_score = "engagement_esat_score"
    esat_comment = "engagement_esat_comment_open"
    # The card's checklist: checkboxes, ten items each (Slack's limit); block_id: `codecs.ChecklistBlock`,
    # option value: the item's id.
    tick = "engagement_checklist_tick"
    # The link of a deliverable just ticked; private_metadata: `codecs.DeliverableForm`.
    link_modal = "engagement_deliverable_link"
    link_block = "engagement_deliverable_link_url"


class DevRelIds(StrEnum):
    # The request modal; private_metadata: `codecs.RequestForm`.
    request_modal = "devrel_request"
    engagement_block = "devrel_engagement"
    engagement_select = "devrel_engagement_select"
    date_block = "devrel_date"
    date_picker = "devrel_date_picker"
    time_block = "devrel_time"
    time_picker = "devrel_time_picker"
    duration_block = "devrel_duration"
    duration_select = "devrel_duration_select"
    topics_block = "devrel_topics"
    topics_input = "devrel_topics_input"
    link_block = "devrel_link"
    link_input = "devrel_link_input"
    asked_block = "devrel_customer_asked"
    asked_input = "devrel_customer_asked_input"
    promised_block = "devrel_promised"
    promised_input = "devrel_promised_input"
    reserve_block = "devrel_reserve"
    reserve_input = "devrel_reserve_input"
    # Buttons on request messages; value: `codecs.RequestButton` (cancel without the version).
    accept = "devrel_accept"
    decline = "devrel_decline"
    take = "devrel_take"
    cancel = "devrel_cancel"
    # The decline form; private_metadata: `codecs.DeclineForm`.
    decline_modal = "devrel_decline_modal"
    reason_block = "devrel_reason"
    reason_input = "devrel_reason_input"
    # "Keep the meeting" on a close's answer (value `codecs.RequestButton`, with a `:n` suffix per meeting),
    # and "Hand back" on the assignee's message, whose form (`codecs.DeclineForm`) asks for a reason.
    keep = "devrel_keep"
    hand_back = "devrel_hand_back"
    hand_back_modal = "devrel_hand_back_modal"
    hand_back_block = "devrel_hand_back_reason"
    hand_back_input = "devrel_hand_back_reason_input"
    # The roster list and the admin form (`codecs.RosterForm`); button values are Slack user ids.
    roster_add = "devrel_roster_add"
    roster_edit = "devrel_roster_edit"
    roster_deactivate = "devrel_roster_deactivate"
    roster_reactivate = "devrel_roster_reactivate"
    roster_modal = "devrel_roster_modal"
    roster_person_block = "devrel_roster_person"
    roster_person_select = "devrel_roster_person_select"
    roster_name_block = "devrel_roster_name"
    roster_name_input = "devrel_roster_name_input"
    roster_topics_block = "devrel_roster_topics"
    roster_topics_input = "devrel_roster_topics_input"
    roster_timezone_block = "devrel_roster_timezone"
    roster_timezone_input = "devrel_roster_timezone_input"
    roster_start_block = "devrel_roster_start"
    roster_start_picker = "devrel_roster_start_picker"
    roster_end_block = "devrel_roster_end"
    roster_end_picker = "devrel_roster_end_picker"
    roster_capacity_block = "devrel_roster_capacity"
    roster_capacity_input = "devrel_roster_capacity_input"
    roster_ooo_block = "devrel_roster_ooo"
    roster_ooo_picker = "devrel_roster_ooo_picker"


class HomeIds(StrEnum):
    # Paging through my engagements; value: `codecs.HomePage`.
    previous_page = "home_previous_page"
    next_page = "home_next_page"
    # Quick actions (New engagement reuses EngagementIds.new).
    find_asset = "home_find_asset"
    request_devrel = "home_request_devrel"
    start_practice = "home_start_practice"
    refresh = "home_refresh"
    # Cancel on one of my DevRel requests: `home_devrel_cancel:ID` (unique in the view), value: `codecs.RequestButton`.
    cancel_devrel = "home_devrel_cancel"
    # Getting started: how to do a step (value = the step's feature), and folding the checklist.
    how_to = "home_how_to"
    checklist_show = "home_checklist_show"
    checklist_hide = "home_checklist_hide"
    # A manager points people new to epos at a practice engagement: the Home's button, its form (one input
    # block holding a user multi-select whose action_id is `invite_field`).
    invite_practice = "home_invite_practice"
    invite_modal = "home_invite_modal"
    invite_block = "home_invite_who"
    invite_field = "home_invite_field"


class NudgeIds(StrEnum):
    # Buttons in the stale-engagement DM; value: `codecs.NudgeButton`.
    snooze = "nudge_snooze"
    undo_snooze = "nudge_undo_snooze"
    # Block ids carry the engagement id after a colon (`nudge_line:42`), so one line can be redrawn.
    line = "nudge_line"
    line_actions = "nudge_line_actions"
    more = "nudge_more"


class PilotIds(StrEnum):
    # The App Home's button that opens the pilot form; value = the pilot's name, or "" to start one.
    open = "pilot_open"
    modal = "pilot_modal"
    # Input blocks of the form (each holds one element whose action_id is `field`).
    name_block = "pilot_name"
    start_block = "pilot_start"
    members_block = "pilot_members"
    end_block = "pilot_end"
    field = "pilot_field"


class ShortcutIds(StrEnum):
    """The callback_ids of the shortcuts manifest.yml declares: on a message, and from the shortcuts menu."""

    find_assets = "message_find_assets"
    add_to_engagement = "message_add_to_engagement"
    ask_devrel = "message_ask_devrel"
    add_asset = "global_add_asset"
