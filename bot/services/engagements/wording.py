"""Wording and matching: stages and outcomes as people type them, and finding the engagement someone means
from an account name typed in a command."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import datetime
from typing import Literal

from rapidfuzz import fuzz, process, utils
from sqlalchemy import func, select

from bot import clock, db
from bot.services.actors import Actor, require_presales
from bot.services.engagements.common import _listed_for, summary
from models import Engagement
from models.engagements import counted
from models.enums import Outcome, Stage
from models.schemas.engagements import AccountMatch, EngagementSummary, Interpretation, StageMatch

# ----- stages as people type them ------------------------------------------------------------------
STAGE_ALIASES: dict[str, Stage] = {
    "preparation": Stage.preparation, "prep": Stage.preparation, "prepare": Stage.preparation,
    "preparing": Stage.preparation,
    "discovery": Stage.discovery, "disco": Stage.discovery, "discover": Stage.discovery,
    "demo": Stage.demo, "demos": Stage.demo, "demonstration": Stage.demo, "d2w": Stage.demo,
    "poc": Stage.poc, "pov": Stage.poc, "proof of concept": Stage.poc, "proof of value": Stage.poc,
    "proof": Stage.poc, "pilot": Stage.poc,
    "tech qa": Stage.tech_qa, "tech q&a": Stage.tech_qa, "technical q&a": Stage.tech_qa,
    "technical qa": Stage.tech_qa, "q&a": Stage.tech_qa, "qa": Stage.tech_qa, "techqa": Stage.tech_qa,
    "tech_qa": Stage.tech_qa, "q and a": Stage.tech_qa, "technical questions": Stage.tech_qa,
    "sizing": Stage.sizing, "size": Stage.sizing,
}
CLOSING_WORDS = {"closed", "close", "won", "lost", "win", "lose", "no decision", "no-decision", "nodecision"}
OUTCOME_ALIASES: dict[str, Outcome] = {
    "won": Outcome.won, "win": Outcome.won,
    "lost": Outcome.lost, "lose": Outcome.lost, "loss": Outcome.lost,
    "no-decision": Outcome.no_decision, "no_decision": Outcome.no_decision, "nodecision": Outcome.no_decision,
    "no decision": Outcome.no_decision, "nd": Outcome.no_decision,
}
STAGE_FUZZY_CUTOFF = 80
ACCOUNT_CONFIDENT = 90
ACCOUNT_UNSURE = 65
MAX_CANDIDATES = 10
# `close ACCOUNT WORD`: the account is looked for in at most this many leading words.
OUTCOME_AFTER_WORDS = 6


def normalize(text: str) -> str:
    return " ".join(text.casefold().replace("_", " ").replace("-", " ").split())


def match_stage(text: str) -> StageMatch:
    """A stage from what someone typed: a label or alias at once, a close spelling as a guess."""
    phrase = normalize(text)
    if not phrase:
        return StageMatch(kind="none", query=text)
    aliases = {normalize(alias): stage for alias, stage in STAGE_ALIASES.items()}
    if phrase in aliases:
        return StageMatch(kind="exact", query=text, stage=aliases[phrase])
    if phrase in {normalize(word) for word in CLOSING_WORDS}:
        return StageMatch(kind="closed", query=text, stage=Stage.closed)
    if len(phrase) >= 3:
        best = process.extractOne(phrase, list(aliases), scorer=fuzz.ratio, score_cutoff=STAGE_FUZZY_CUTOFF)
        if best is not None:
            return StageMatch(kind="unsure", query=text, stage=aliases[best[0]])
    return StageMatch(kind="none", query=text)


def parse_outcome(text: str) -> Outcome | None:
    return OUTCOME_ALIASES.get(" ".join(text.casefold().split()))


# ----- finding an engagement from what someone typed ---------------------------------------------------------
@dataclass(frozen=True)
class _Scored:
    quality: int  # 3 same name, 2 name starts with the words, 1 fuzzy
    score: float


@dataclass(frozen=True)
class _Tier:
    """Engagements a typed account is matched against, as ids and account names in the order they are
    offered: a full row is read only for the few a match lists (`_summaries`). Reading every engagement
    as a row and a summary, per command, cost about 5 kB each: half a gigabyte a command at 100k
    engagements, several at once in each worker's listener threads."""

    ids: list[int]
    accounts: list[str]
    now: datetime

    @cached_property
    def distinct_accounts(self) -> list[str]:
        return list(dict.fromkeys(self.accounts))

    def ids_of(self, accounts: list[str]) -> list[int]:
        """The engagements of these accounts: by account in the order given, then in the tier's order."""
        by_account: dict[str, list[int]] = {account: [] for account in accounts}
        for engagement_id, account in zip(self.ids, self.accounts):
            if account in by_account:
                by_account[account].append(engagement_id)
        return [engagement_id for found in by_account.values() for engagement_id in found]


def _pools(actor: Actor, *, now: datetime, open_only: bool = False) -> dict[bool, list[_Tier]]:
    """The engagements a typed account is matched against: the actor's own (owner or seller) first,
    then everyone's; managers and admins search everyone's at once. Keyed by open_only: every listed
    engagement's tiers (False) and the open ones' (True), from one read per command."""
    where = [_listed_for(actor.user_id), *([Engagement.stage != Stage.closed.value] if open_only else [])]
    mine = (Engagement.owner_id == actor.user_id) | (Engagement.seller_id == actor.user_id)
    tiers = {open_: (_Tier([], [], now), _Tier([], [], now)) for open_ in (False, True)}  # (everyone's, own)
    with db.reading() as session:
        # Core rows: at 100k engagements the ORM's handling of these plain columns was a quarter of the command.
        rows = session.connection().execute(
            select(Engagement.id, Engagement.account, mine, Engagement.stage != Stage.closed.value).where(*where)
            .order_by(Engagement.closed_at.is_not(None), func.lower(Engagement.account), Engagement.id)
        )
        for engagement_id, account, is_mine, is_open in rows:
            for open_ in (False, True) if is_open else (False,):
                for tier in tiers[open_] if is_mine else tiers[open_][:1]:
                    tier.ids.append(engagement_id)
                    tier.accounts.append(account)
    if actor.manager or actor.admin:
        return {open_: [everyone] for open_, (everyone, _) in tiers.items()}
    return {open_: [own, everyone] for open_, (everyone, own) in tiers.items()}


def _pool(actor: Actor, *, open_only: bool, now: datetime) -> list[_Tier]:
    return _pools(actor, now=now, open_only=open_only)[open_only]


def _summaries(ids: list[int], now: datetime) -> list[EngagementSummary]:
    """These engagements as summaries, in the order given (one gone meanwhile is left out)."""
    if not ids:
        return []
    with db.reading() as session:
        found = {row.id: summary(row, now) for row in session.scalars(select(Engagement).where(Engagement.id.in_(ids)))}
    return [found[engagement_id] for engagement_id in ids if engagement_id in found]


def _score_accounts(query: str, accounts: list[str]) -> dict[str, _Scored]:
    wanted = normalize(query)
    scored: dict[str, _Scored] = {}
    for account in accounts:
        name = normalize(account)
        if name == wanted:
            scored[account] = _Scored(3, 100.0)
        elif name.startswith(wanted + " ") or (len(wanted) >= 3 and name.startswith(wanted)):
            scored[account] = _Scored(2, 95.0)
    if scored:
        return scored
    for account, score, _ in process.extract(
        wanted, accounts, scorer=fuzz.WRatio, processor=utils.default_process, limit=MAX_CANDIDATES,
        score_cutoff=ACCOUNT_UNSURE,
    ):
        scored[account] = _Scored(1, float(score))
    return scored


def _match_in(query: str, tier: _Tier) -> AccountMatch:
    accounts = tier.distinct_accounts
    scored = _score_accounts(query, accounts)
    if not scored:
        return AccountMatch(kind="none", query=query)
    best_quality = max(s.quality for s in scored.values())
    top = sorted(
        (a for a, s in scored.items() if s.quality == best_quality), key=lambda a: (-scored[a].score, a.casefold())
    )
    if best_quality == 1:
        best = scored[top[0]].score
        confident = [a for a in top if scored[a].score >= ACCOUNT_CONFIDENT]
        if best >= ACCOUNT_CONFIDENT and len(confident) == 1 and (len(top) == 1 or scored[top[1]].score < best - 8):
            top = confident
            best_quality = 2
    chosen = tier.ids_of(top)
    listed = _summaries(chosen[:MAX_CANDIDATES], tier.now)
    if not listed:  # deleted since the tier was read (a practice engagement, say)
        return AccountMatch(kind="none", query=query)
    more = max(0, len(chosen) - MAX_CANDIDATES)
    quality = max(s.quality for s in scored.values())
    if best_quality == 1:
        return AccountMatch(kind="unsure", query=query, candidates=listed, more=more, quality=quality)
    if len(chosen) == 1:
        return AccountMatch(kind="exact", query=query, candidates=listed, quality=quality)
    return AccountMatch(kind="ambiguous", query=query, candidates=listed, more=more, quality=quality)


def match_account(
    actor: Actor, query: str, *, open_only: bool = True, now: datetime | None = None
) -> AccountMatch:
    """Engagements whose account matches `query`: the actor's own first (owner or seller), then everyone's.

    "exact": one engagement, act on it. "unsure": a guess to confirm. "ambiguous": several, let the
    person pick. "none": nothing close.
    """
    require_presales(actor)
    return _match_pool(query, _pool(actor, open_only=open_only, now=now or clock.now()))


def _match_pool(query: str, tiers: list[_Tier]) -> AccountMatch:
    query = " ".join(query.split())
    result = AccountMatch(kind="none", query=query)
    if not query:
        return result
    for tier in tiers:
        result = _match_in(query, tier)
        if result.kind in ("exact", "ambiguous"):
            return result
        if result.kind == "unsure":
            # A guess among one's own deals gives way to a sure hit among everyone's.
            wider = _match_in(query, tiers[-1]) if tier is not tiers[-1] else result
            return wider if wider.kind in ("exact", "ambiguous") else result
    return result


def _closed_named(query: str, tiers: list[_Tier]) -> AccountMatch | None:
    """One closed engagement whose account is `query` or starts with it, when no open one fits."""
    found = _match_pool(query, tiers)
    if found.kind == "exact" and found.quality >= 2 and not found.candidates[0].is_open:
        return found
    return None


def closed_named(actor: Actor, query: str, *, now: datetime | None = None) -> EngagementSummary | None:
    """The closed engagement a typed account names plainly (no open engagement fits it), if any."""
    require_presales(actor)
    found = _closed_named(query, _pool(actor, open_only=False, now=now or clock.now()))
    return found.candidates[0] if found else None


def split_close(text: str) -> tuple[str, Outcome | None, str]:
    """`ACCOUNT OUTCOME [note]` → account words, outcome, note (the first outcome word splits them)."""
    words = text.split()
    for index in range(1, len(words)):
        for length in (2, 1):
            outcome = parse_outcome(" ".join(words[index:index + length]))
            if outcome is not None and index + length <= len(words):
                return " ".join(words[:index]), outcome, " ".join(words[index + length:])
    return text.strip(), None, ""


def unknown_outcome(actor: Actor, text: str, *, now: datetime | None = None) -> tuple[str, str] | None:
    """`close ACCOUNT WORD …` where the account is known and WORD is no outcome: (account as typed, WORD).

    The longest run of leading words that names an engagement (all of the name, or its start) is the
    account; the word after it was meant as the outcome."""
    require_presales(actor)
    words = text.split()
    tiers = _pool(actor, open_only=False, now=now or clock.now())
    for index in range(min(len(words) - 1, OUTCOME_AFTER_WORDS), 0, -1):
        account = _match_pool(" ".join(words[:index]), tiers)
        if account.kind in ("exact", "ambiguous") and account.quality >= 2:
            return " ".join(words[:index]), words[index]
    return None


def suggestions(query: str, *, limit: int = 3) -> list[str]:
    """Account names close to `query` (any engagement), for "did you mean …?" after a miss."""
    with db.reading() as session:
        accounts = list(session.scalars(select(Engagement.account).where(counted()).distinct()).all())
    found = process.extract(normalize(query), accounts, scorer=fuzz.WRatio, processor=utils.default_process,
                            limit=limit, score_cutoff=50)
    return [account for account, _, _ in found]


def interpret(actor: Actor, text: str, *, now: datetime | None = None) -> Interpretation:
    """Split `ACCOUNT STAGE [note]`, or read the whole text as an account (the card).

    Accounts may hold several words, so every split where a stage word follows is tried; the one whose
    account matches best wins, and at equal match the earliest stage word (the rest is the note).
    """
    now = now or clock.now()
    # Before any matching: a "did you mean" or a picker would name accounts.
    require_presales(actor)
    text = " ".join(text.split())
    words = text.split(" ")
    pools = _pools(actor, now=now)
    whole = _match_pool(text, pools[False])
    if whole.kind in ("exact", "ambiguous") and all(normalize(c.account) == normalize(text) for c in whole.candidates):
        return Interpretation(kind="card", account=whole)
    options: list[tuple[tuple[int, int, int, int, int], Interpretation]] = []
    kind_rank = {"exact": 3, "ambiguous": 2, "unsure": 1, "none": 0}
    for start in range(1, len(words)):
        for length in (3, 2, 1):
            if start + length > len(words):
                continue
            stage = match_stage(" ".join(words[start : start + length]))
            if stage.kind == "none":
                continue
            account_text = " ".join(words[:start])
            account = _match_pool(account_text, pools[stage.kind != "closed"])
            if account.kind == "none":
                # A closed engagement named plainly is the one meant: the answer says it is closed.
                account = _closed_named(account_text, pools[False]) or account
            if stage.kind == "unsure" and account.kind == "none":
                continue
            exactness = 1 if stage.kind in ("exact", "closed") else 0
            rank = (kind_rank[account.kind], account.quality, exactness, -start, length)
            kind: Literal["change", "closing"] = "closing" if stage.kind == "closed" else "change"
            options.append((rank, Interpretation(kind=kind, account=account, stage=stage,
                                                 note=" ".join(words[start + length :]))))
            break  # the longest stage phrase at this position is the one meant
    if options:
        options.sort(key=lambda option: option[0], reverse=True)
        best = options[0][1]
        guessed = best.account.kind == "unsure" and best.stage is not None and best.stage.kind == "unsure"
        if guessed and whole.kind in ("exact", "ambiguous") and whole.quality >= 2:
            return Interpretation(kind="card", account=whole)
        if best.account.kind != "none" or whole.kind == "none":
            return best
    return Interpretation(kind="card", account=whole)
