"""Which assets help win, in words: the line on a search card, the curators' digest section, and the lines
`epos assets report` prints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import dates
from bot.blocks.text import clip, link, plural
from bot.charts import day_count, stage_label
from models.enums import ASSET_TYPE_LABELS, Outcome
from models.schemas.asset_outcomes import MIN_FOR_RATES, AssetOutcome, DealUse, OutcomeReport, UsedIn, WonDealsAsset

CARD_LINE = "🏆 Used in {won} of {closed} closed"
DIGEST_TITLE = "*Assets in won engagements* ({quarter} so far; every asset: `epos assets report`)"
NO_DIGEST = "*Assets in won engagements*\nNo asset was shared into an engagement won in {quarter} so far."
DIGEST_LINE = "{title} · used in {won} ({closed} closed)"

REPORT_TITLE = "Assets used in engagements, {since} – {until} ({zone})"
REPORT_TEAM = "The team: {closed}, {won} won ({rate}), median time to close {mttc}."
REPORT_RULE = ("An asset counts an engagement it was shared into while the engagement was open: closed in the "
               "window, or still open at its end and shared in it. Practice engagements never count. With fewer "
               f"than {MIN_FOR_RATES} closed engagements an asset shows counts only, no rates.")
REPORT_NO_TEAM = "The team closed no engagement in this window."
REPORT_EMPTY = "No asset was shared into an engagement in this window."
COUNTS_ONLY = "counts only: fewer than {needed} closed"
RATES = "win rate {rate} (team {team_rate}) · median time to close {mttc} (team {team_mttc})"
OUTCOME_WORDS = {Outcome.won: "won", Outcome.lost: "lost", Outcome.no_decision: "no decision"}


def card_line(use: DealUse | None) -> str | None:
    """"🏆 Used in 3 won engagements of 5 closed" on a search card, once the asset has helped win at least one."""
    if use is None or use.won == 0:
        return None
    return CARD_LINE.format(won=plural(use.won, "won engagement"), closed=use.closed)


def quarter_name(since: datetime, tz: ZoneInfo) -> str:
    local = since.astimezone(tz)
    return f"Q{(local.month - 1) // 3 + 1} {local.year}"


def digest_section(assets: list[WonDealsAsset], quarter: str) -> str:
    if not assets:
        return NO_DIGEST.format(quarter=quarter)
    lines = [DIGEST_LINE.format(title=link(a.url, clip(a.title, 150)), won=plural(a.won, "won engagement"),
                                closed=a.closed) for a in assets]
    return "\n".join([DIGEST_TITLE.format(quarter=quarter), *(f"• {line}" for line in lines)])


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _days(value: float | None) -> str:
    return "–" if value is None else day_count(value)


def _engagement_line(used: UsedIn, name_of: Callable[[str], str], tz: ZoneInfo) -> str:
    stage = stage_label(used.stage) if used.stage else "before it opened"
    head = f"{used.account} ({used.opportunity}) · {name_of(used.owner_id)} · shared in {stage}"
    if used.outcome is None or used.closed_at is None:
        return f"{head} · open"
    return (f"{head} · {OUTCOME_WORDS[used.outcome]} {dates.day(used.closed_at, tz)}, "
            f"{_days(used.mttc_days)} after it opened")


def _asset_lines(asset: AssetOutcome, report: OutcomeReport, tz: ZoneInfo, name_of: Callable[[str], str]) -> list[str]:
    counts = [f"{asset.count(o)} {OUTCOME_WORDS[o]}" for o in Outcome] + [f"{asset.count(None)} open"]
    lines = [
        f"{asset.title} ({ASSET_TYPE_LABELS[asset.type]})",
        (f"  {plural(len(asset.engagements), 'engagement')}: {', '.join(counts)} · "
         f"shared by {plural(len(asset.sharers), 'SE')}"),
    ]
    if asset.rates_shown:
        lines.append("  " + RATES.format(rate=_rate(asset.win_rate), team_rate=_rate(report.team_win_rate),
                                         mttc=_days(asset.mttc_days_median),
                                         team_mttc=_days(report.team_mttc_days_median)))
    else:
        lines.append("  " + COUNTS_ONLY.format(needed=MIN_FOR_RATES))
    stages = ", ".join(f"{stage_label(stage) if stage != 'before_opening' else 'before it opened'} {count}"
                       for stage, count in asset.stages.items())
    lines.append(f"  stage when first shared: {stages}")
    lines.extend(f"  - {_engagement_line(used, name_of, tz)}" for used in asset.engagements)
    return lines


def report_text(report: OutcomeReport, tz: ZoneInfo, name_of: Callable[[str], str]) -> str:
    """`epos assets report` for a terminal: the window, the team, then each asset, most won first."""
    last_day = (report.until.astimezone(tz) - timedelta(microseconds=1))
    lines = [
        REPORT_TITLE.format(since=dates.day(report.since, tz), until=dates.day(last_day, tz), zone=tz.key),
        REPORT_TEAM.format(closed=plural(report.team_closed, "engagement") + " closed", won=report.team_won,
                           rate=_rate(report.team_win_rate), mttc=_days(report.team_mttc_days_median))
        if report.team_closed else REPORT_NO_TEAM,
        REPORT_RULE,
    ]
    if not report.assets:
        lines += ["", REPORT_EMPTY]
    for asset in report.assets:
        lines.append("")
        lines.extend(_asset_lines(asset, report, tz, name_of))
    return "\n".join(lines) + "\n"
