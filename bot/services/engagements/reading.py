"""Reading engagements: one for a form, the card, the lists, the playbook post, the App Home's data and
the figures. The presales team may read; `common.may_change` says who may also change."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from bot import clock, db
from bot.errors import Forbidden
from bot.services import challenges, playbooks, usage
from bot.services.actors import Actor, require_presales
from bot.services.engagements import checklists
from bot.services.engagements.common import (
    BACKDATED_AFTER,
    IMPORT_ACTOR,
    _changeable,
    _listed_for,
    _load,
    may_change,
    summary,
)
from bot.services.engagements.stale import _overdue_order
from bot.services.metrics import at, stage_rank, team_metrics
from models import Asset, AssetShare, DevRelRequest, Engagement, EngagementNote, StageChange
from models.engagements import counted
from models.enums import AssetType, Outcome, RequestState, Stage
from models.schemas.devrel import CANCELLABLE_STATES
from models.schemas.engagements import (
    AssetSuggestion,
    ChallengeChain,
    DevRelLine,
    EngagementCard,
    EngagementPage,
    EngagementSummary,
    HomeData,
    NeedLine,
    PlaybookPost,
    SharedAsset,
    TeamMetrics,
    TimelineEntry,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 10
HOME_PAGE_SIZE = 15
TIMELINE_LIMIT = 12
CARD_LIST_LIMIT = 5


def get(engagement_id: int, *, now: datetime | None = None) -> EngagementSummary:
    now = now or clock.now()
    with db.reading() as session:
        return summary(_load(session, engagement_id), now)


def for_change(actor: Actor, engagement_id: int, *, closed_ok: bool = False,
               now: datetime | None = None) -> EngagementSummary:
    """The engagement a form is about to change, after checking the actor may (so nobody fills in a form
    in vain). The submission checks again."""
    now = now or clock.now()
    with db.reading() as session:
        return summary(_changeable(session, actor, engagement_id, now, closed_ok=closed_ok), now)


def card(engagement_id: int, *, viewer: Actor | None = None, now: datetime | None = None) -> EngagementCard:
    """Everything about one engagement for its card, which the presales team may read."""
    now = now or clock.now()
    if viewer is not None:
        require_presales(viewer)
    with db.reading() as session:
        engagement = _load(session, engagement_id)
        entries = _timeline(session, engagement_id)
        share_rows = session.execute(
            select(AssetShare, Asset)
            .join(Asset, Asset.id == AssetShare.asset_id)
            .where(AssetShare.engagement_id == engagement_id)
            .order_by(AssetShare.shared_at.desc(), AssetShare.id.desc())
            .limit(CARD_LIST_LIMIT)
        ).all()
        shares_total = session.scalar(
            select(func.count()).select_from(AssetShare).where(AssetShare.engagement_id == engagement_id)
        ) or 0
        by_type = session.execute(
            select(Asset.type, func.count(func.distinct(AssetShare.asset_id)))
            .join(Asset, Asset.id == AssetShare.asset_id)
            .where(AssetShare.engagement_id == engagement_id).group_by(Asset.type)
        ).all()
        requests = session.scalars(
            select(DevRelRequest)
            .where(DevRelRequest.engagement_id == engagement_id)
            .order_by(DevRelRequest.meeting_start.desc(), DevRelRequest.id.desc())
            .limit(CARD_LIST_LIMIT)
        ).all()
        may = viewer is not None and may_change(viewer, engagement)
        return EngagementCard(
            engagement=summary(engagement, now),
            business_challenge=engagement.business_challenge,
            technical_needs=engagement.technical_needs,
            chain=_chain(engagement.challenge_id, list(engagement.need_ids or [])),
            timeline=entries[:TIMELINE_LIMIT],
            timeline_total=len(entries),
            shares=[
                SharedAsset(asset_id=asset.id, title=asset.title, url=asset.url, type=AssetType(asset.type),
                            shared_by=share.user_id, shared_at=share.shared_at)
                for share, asset in share_rows
            ],
            shares_total=int(shares_total),
            interactions={AssetType(kind): int(count) for kind, count in by_type},
            devrel=[_devrel_line(request, engagement.account) for request in requests],
            viewer_may_change=may,
            viewer_may_reopen=may and engagement.stage == Stage.closed,
            viewer_may_delete=viewer is not None and engagement.practice
            and (viewer.admin or viewer.user_id == engagement.owner_id),
            tools=[] if engagement.stage == Stage.closed else playbooks.playbook(Stage(engagement.stage)).tools,
            checklist=[] if engagement.stage == Stage.closed
            else checklists.lines(session, engagement_id, Stage(engagement.stage)),
        )


CHAIN_ASSETS = 2


def need_topics_in(channel_id: str | None) -> list[str]:
    """The asset topics of the needs of the open engagements whose deal channel this is (the challenge
    map's), so `/asset` there ranks what fits the deal first. Empty outside a deal channel."""
    if not channel_id or channel_id[:1] not in ("C", "G"):
        return []
    with db.reading() as session:
        rows = session.scalars(
            select(Engagement.need_ids).where(Engagement.channel_id == channel_id,
                                              Engagement.stage != Stage.closed.value, counted())
            .limit(CARD_LIST_LIMIT)
        ).all()
    return challenges.current().asset_topics(need_id for need_ids in rows for need_id in (need_ids or []))


def _chain(challenge_id: str | None, need_ids: list[str]) -> ChallengeChain | None:
    """Challenge → needs → the published assets that fit each need, as the challenge map draws it."""
    if not challenge_id and not need_ids:
        return None
    from bot.services import assets as asset_service

    chart = challenges.current()
    challenge = chart.challenge(challenge_id)
    lines = []
    for need in chart.needs(need_ids):
        try:
            found = asset_service.with_topics(need.asset_topics, limit=CHAIN_ASSETS)
        except Exception:
            # The card matters more than the suggestions on it.
            log.exception("assets for a need could not be read; the card shows the need without them")
            found = []
        lines.append(NeedLine(text=need.text, assets=[
            AssetSuggestion(title=card.title, url=card.url, type=card.type, summary=card.summary) for card in found]))
    return ChallengeChain(challenge=challenge.text if challenge else None, needs=lines)


def _timeline(session: Session, engagement_id: int) -> list[TimelineEntry]:
    """Every stage change and note of the engagement, latest first."""
    changes = session.scalars(
        select(StageChange).where(StageChange.engagement_id == engagement_id).order_by(StageChange.id)
    ).all()
    notes = session.scalars(
        select(EngagementNote).where(EngagementNote.engagement_id == engagement_id).order_by(EngagementNote.id)
    ).all()
    undone = {c.reverts_id for c in changes if c.reverts_id is not None}
    entries = [
        TimelineEntry(
            kind="stage", at=c.effective_at, logged_at=c.logged_at, actor_id=c.actor_id,
            from_stage=Stage(c.from_stage) if c.from_stage else None, to_stage=Stage(c.to_stage),
            outcome=Outcome(c.outcome) if c.outcome else None, note=c.note,
            backdated=c.actor_id != IMPORT_ACTOR and c.logged_at - c.effective_at > BACKDATED_AFTER,
            undo=c.reverts_id is not None, undone=c.id in undone,
        )
        for c in changes
    ] + [
        TimelineEntry(kind="note", at=n.written_at, logged_at=n.written_at, actor_id=n.author_id, note=n.text)
        for n in notes
    ]
    entries.sort(key=lambda entry: (entry.at, entry.logged_at), reverse=True)
    return entries


def _devrel_line(request: DevRelRequest, account: str, *, cancel_by: str | None = None,
                 now: datetime | None = None) -> DevRelLine:
    """`cancel_by`: the viewer, who may call the request off if they made it and its meeting is ahead."""
    may_cancel = (cancel_by is not None and now is not None and request.requester_id == cancel_by
                  and RequestState(request.state) in CANCELLABLE_STATES and request.meeting_start > now)
    return DevRelLine(
        id=request.id, engagement_id=request.engagement_id, account=account, state=RequestState(request.state),
        requester_id=request.requester_id, candidate_id=request.candidate_id, assignee_id=request.assignee_id,
        meeting_start=request.meeting_start, topics=list(request.topics or []), may_cancel=may_cancel,
    )


def _mine(user_id: str) -> ColumnElement[bool]:
    return or_(Engagement.owner_id == user_id, Engagement.seller_id == user_id)


def list_engagements(
    actor: Actor, *, scope: Literal["mine", "all"] = "mine", page: int = 0, now: datetime | None = None
) -> EngagementPage:
    """The actor's engagements (owner or seller), or everyone's for managers; open first, then closed."""
    now = now or clock.now()
    require_presales(actor)
    if scope == "all" and not (actor.manager or actor.admin):
        raise Forbidden(
            "`/engagement list all` is for presales managers (EPOS_MANAGERS). `/engagement list` shows yours."
        )
    where = [_listed_for(actor.user_id)] if scope == "all" else [_mine(actor.user_id)]
    is_closed = case((Engagement.stage == Stage.closed.value, 1), else_=0)
    with db.reading() as session:
        total = session.scalar(select(func.count()).select_from(Engagement).where(*where)) or 0
        open_total = session.scalar(
            select(func.count()).select_from(Engagement).where(*where, Engagement.stage != Stage.closed.value)
        ) or 0
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        rows = session.scalars(
            select(Engagement)
            .where(*where)
            .order_by(is_closed, Engagement.closed_at.desc(), stage_rank(Engagement.stage).desc(),
                      func.lower(Engagement.account), Engagement.id)
            .offset(page * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        return EngagementPage(scope=scope, items=[summary(row, now) for row in rows], page=page, pages=pages,
                              total=int(total), open_total=int(open_total))


# ----- the playbook post -----------------------------------------------------------------------------------
def _recommended_assets(focus: str, asset_types: list[AssetType], limit: int = 3,
                        need_ids: list[str] | None = None) -> list[AssetSuggestion]:
    """The best assets for the focus and stage, from the asset catalogue's recommender; those tagged with
    the topics of the engagement's needs (the challenge map) first."""
    from bot.services import assets as asset_service

    recommend = getattr(asset_service, "recommend", None)
    if recommend is None:
        return []
    try:
        topics = challenges.current().asset_topics(need_ids or [])
        found = recommend(focus, list(asset_types), limit=limit, topics=topics)
    except Exception:
        # The checklist matters more than the suggestions: post it without them.
        log.exception("asset recommendations failed; the playbook goes out without them")
        return []
    return [
        AssetSuggestion(id=item.id, title=str(item.title), url=str(item.url), type=AssetType(item.type),
                        summary=str(getattr(item, "summary", "") or ""))
        for item in found[:limit]
    ]


def playbook_post(engagement_id: int, stage: Stage | None = None, *, now: datetime | None = None) -> PlaybookPost:
    """The checklist of the stage the engagement is in (or `stage`), with the assets that fit it."""
    now = now or clock.now()
    current = get(engagement_id, now=now)
    stage = Stage(stage or current.stage)
    book = playbooks.playbook(stage)
    return PlaybookPost(
        engagement=current, stage=stage, title=book.title, goal=book.goal, prerequisites=book.prerequisites,
        calls_to_action=book.calls_to_action, deliverables=book.deliverables, asset_types=book.asset_types,
        assets=_recommended_assets(current.focus, book.asset_types, need_ids=current.need_ids), tools=book.tools,
    )


# ----- the App Home's data ----------------------------------------------------------------------------------
HOME_WINDOW = timedelta(weeks=12)


def home(actor: Actor, *, page: int = 0, now: datetime | None = None) -> HomeData:
    """My open engagements (owner or seller), the DevRel requests I made or must answer, and my figures
    (the team's for managers)."""
    now = now or clock.now()
    user_id = actor.user_id
    mine_open = [_mine(user_id), Engagement.stage != Stage.closed.value]
    recent = at(now - timedelta(hours=12))
    with db.reading() as session:
        total = session.scalar(select(func.count()).select_from(Engagement).where(*mine_open)) or 0
        ever = session.scalar(
            select(func.count()).select_from(Engagement).where(_mine(user_id))
        ) or 0
        pages = max(1, -(-total // HOME_PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        rows = session.scalars(
            select(Engagement).where(*mine_open)
            .order_by(_overdue_order(now), Engagement.id)
            .offset(page * HOME_PAGE_SIZE).limit(HOME_PAGE_SIZE)
        ).all()
        live = or_(
            DevRelRequest.state.in_([RequestState.asking.value, RequestState.in_channel.value]),
            (DevRelRequest.state == RequestState.accepted.value) & (DevRelRequest.meeting_start >= recent),
        )
        requested = session.execute(
            select(DevRelRequest, Engagement.account).join(Engagement, Engagement.id == DevRelRequest.engagement_id)
            .where(DevRelRequest.requester_id == user_id, live)
            .order_by(DevRelRequest.meeting_start, DevRelRequest.id).limit(CARD_LIST_LIMIT * 2)
        ).all()
        to_answer = session.execute(
            select(DevRelRequest, Engagement.account).join(Engagement, Engagement.id == DevRelRequest.engagement_id)
            .where(
                or_(
                    (DevRelRequest.candidate_id == user_id) & (DevRelRequest.state == RequestState.asking.value),
                    (DevRelRequest.assignee_id == user_id) & (DevRelRequest.state == RequestState.accepted.value)
                    & (DevRelRequest.meeting_start >= recent),
                )
            )
            .order_by(DevRelRequest.meeting_start, DevRelRequest.id).limit(CARD_LIST_LIMIT * 2)
        ).all()
        items = [summary(row, now) for row in rows]
        requested_lines = [_devrel_line(r, account, cancel_by=user_id, now=now) for r, account in requested]
        to_answer_lines = [_devrel_line(r, account) for r, account in to_answer]
    figures: TeamMetrics | None = None
    refusal: str | None = None
    try:
        require_presales(actor)
        figures = team_metrics(now - HOME_WINDOW, now, owner_id=None if (actor.manager or actor.admin) else user_id)
    except Forbidden as error:
        refusal = str(error)
    return HomeData(
        user_id=user_id, manager=actor.manager or actor.admin, engagements=items, engagements_total=int(total),
        page=page, pages=pages,
        devrel_requested=requested_lines,
        devrel_to_answer=to_answer_lines,
        metrics=figures, figures_refused=refusal, is_new=ever == 0 and not requested and not to_answer,
    )


def figures(actor: Actor, *, weeks: int, mine_only: bool = False,
            now: datetime | None = None) -> tuple[TeamMetrics, Literal["team", "mine"]]:
    """`/engagement stats`: the actor's figures for the last `weeks`, or the team's for managers."""
    require_presales(actor)
    until = now or clock.now()
    team = (actor.manager or actor.admin) and not mine_only
    found = team_metrics(until - timedelta(weeks=weeks), until, owner_id=None if team else actor.user_id)
    usage.note(actor.user_id, usage.FIGURES, now=until)
    return found, "team" if team else "mine"
