"""`epos doctor`: an installation checked against what epos needs, each finding with its fix.

An admin runs it after creating the app from manifest.yml and before telling the team. Every check
asks the live database or Slack; nothing is written but a probe that is rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url

from bot import clock, db, sharing
from bot.config import Settings
from bot.errors import ConfigError, first_line

# The bot scopes epos uses, each for a reason the README gives; manifest.yml asks for exactly these.
BOT_SCOPES = ("commands", "chat:write", "im:write", "mpim:write", "users:read", "usergroups:read", "files:write",
              "channels:read", "groups:read", "team:read", "im:history", "channels:history", "groups:history",
              "links:read", "links:write")
APP_TOKEN_SCOPE = "connections:write"
FROM_MANIFEST = ("add it under OAuth & Permissions › Scopes (or create the app again from manifest.yml), "
                 "then reinstall the app to the workspace")
SLACK_TOKEN_FAULTS = {
    "invalid_auth": "the token is not valid",
    "not_authed": "no token was sent",
    "token_revoked": "the token was revoked",
    "account_inactive": "the app was uninstalled or its bot deactivated",
    "token_expired": "the token has expired",
}


@dataclass(frozen=True)
class Finding:
    area: str
    name: str
    # None: worth knowing, but nothing is wrong (an optional setting left unset).
    ok: bool | None
    detail: str
    fix: str = ""


def healthy(findings: list[Finding]) -> bool:
    return all(finding.ok is not False for finding in findings)


def as_json(findings: list[Finding]) -> dict[str, Any]:
    return {"ok": healthy(findings), "checks": [asdict(finding) for finding in findings]}


def examine(settings: Settings, client: WebClient | None, *, now: datetime | None = None) -> list[Finding]:
    """Every check, in the order an admin would fix things: database, Slack, channels, people, content,
    scheduler. Checks that need what an earlier one found missing are left out rather than failed twice."""
    now = now or clock.now()
    findings = list(_database(settings))
    database_ok = healthy(findings)
    if client is None:
        findings.append(Finding("Slack", "bot token", False, "SLACK_BOT_TOKEN is not set",
                                "copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions into SLACK_BOT_TOKEN"))
    else:
        slack = list(_slack(settings, client))
        findings += slack
    findings += _modes(settings)
    findings += link_previews(settings)
    if client is not None and healthy([f for f in findings if f.name == "bot token"]):
        findings += _channels(settings, client)
        findings += _people(settings, client)
    if database_ok:
        findings += _content(settings)
        findings += _webhooks(now)
        findings += rollout(settings, now)
        findings += _scheduler(settings, now)
    return findings


# ----- the database -----------------------------------------------------------------------------------
def _where(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite at {parsed.database or 'memory'}"
    return f"PostgreSQL database {parsed.database} on {parsed.host}:{parsed.port or 5432}"


def database_reachable(settings: Settings) -> list[Finding]:
    where = _where(settings.database_url)
    engine = db.make_engine(settings.database_url, pooled=False)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return [Finding("Database", "reachable", True, where)]
    except Exception as error:  # whatever the driver raises, the admin needs its first line
        return [Finding("Database", "reachable", False, f"{where}: {first_line(error)}",
                        "check DATABASE_URL: host, port, database name, user and password, or the SQLite file's "
                        "folder (README › Database)")]
    finally:
        engine.dispose()


def _database(settings: Settings) -> Iterator[Finding]:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    reachable = database_reachable(settings)
    yield from reachable
    if not healthy(reachable):
        return
    engine: Engine = db.make_engine(settings.database_url, pooled=False)
    try:
        with engine.connect() as connection:
            heads = set(ScriptDirectory.from_config(db.alembic_config(settings.database_url)).get_heads())
            current = set(MigrationContext.configure(connection).get_current_heads())
        if current != heads:
            shown = ", ".join(sorted(current)) or "empty"
            yield Finding("Database", "schema", False, f"at {shown}, not at the newest ({', '.join(sorted(heads))})",
                          "run `epos db upgrade` (epos run and epos serve also upgrade on start)")
            return
        yield Finding("Database", "schema", True, f"at the newest ({', '.join(sorted(heads))})")
        yield _writable(engine, _where(settings.database_url))
    finally:
        engine.dispose()


def _writable(engine: Engine, where: str) -> Finding:
    from models import ProcessedDelivery

    try:
        with engine.connect() as connection:
            with connection.begin() as probe:
                connection.execute(insert(ProcessedDelivery).values(key="epos-doctor-probe", seen_at=clock.now()))
                probe.rollback()
        return Finding("Database", "writable", True, "a test write was accepted and rolled back")
    except Exception as error:
        return Finding("Database", "writable", False, f"{where}: {first_line(error)}",
                       "give epos's database user INSERT, UPDATE and DELETE on its tables (for SQLite: "
                       "a writable file and folder)")


# ----- Slack ------------------------------------------------------------------------------------------
def _ask(call: Callable[[], Any]) -> tuple[Any, str]:
    """(response, "") or (None, what went wrong in a few words)."""
    try:
        return call(), ""
    except SlackApiError as error:
        return None, str(error.response.get("error") or "an error")
    except OSError as error:
        # urllib wraps the socket's error; its reason is the part a person can act on.
        return None, f"Slack could not be reached ({first_line(getattr(error, 'reason', None) or error)})"


def slack_identity(settings: Settings, client: WebClient) -> list[Finding]:
    """Whether the bot token works, for the workspace and app the settings name (what a start needs)."""
    return [finding for finding in _slack(settings, client) if finding.name != "scopes"]


def _slack(settings: Settings, client: WebClient) -> Iterator[Finding]:
    identity, problem = _ask(client.auth_test)
    if identity is None:
        reason = SLACK_TOKEN_FAULTS.get(problem, problem)
        yield Finding("Slack", "bot token", False, f"auth.test failed: {reason}",
                      "copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions into SLACK_BOT_TOKEN"
                      if problem in SLACK_TOKEN_FAULTS else f"check SLACK_API_URL ({settings.slack_api_url}) "
                      "and that this host can reach it")
        return
    team, team_id = identity.get("team", ""), identity.get("team_id", "")
    app_id = identity.get("app_id") or _app_of_bot(client, identity.get("bot_id"))
    yield Finding("Slack", "bot token", True, f"{identity.get('user', 'the bot')} in {team} ({team_id}), app {app_id or 'unknown'}")
    if settings.slack_team_id and team_id != settings.slack_team_id:
        yield Finding("Slack", "workspace", False, f"the token is for {team} ({team_id}), SLACK_TEAM_ID says "
                      f"{settings.slack_team_id}", "use the token of the workspace epos serves, or correct SLACK_TEAM_ID")
    if settings.slack_app_id and app_id and app_id != settings.slack_app_id:
        yield Finding("Slack", "app", False, f"the token is of app {app_id}, SLACK_APP_ID says {settings.slack_app_id}",
                      "use this app's token, or correct SLACK_APP_ID (Basic Information › App ID)")
    yield _scopes(identity)


def _app_of_bot(client: WebClient, bot_id: str | None) -> str:
    if not bot_id:
        return ""
    found, _ = _ask(lambda: client.bots_info(bot=bot_id))
    return str(((found or {}).get("bot") or {}).get("app_id") or "")


def _scopes(identity: Any) -> Finding:
    header = next((value for key, value in (identity.headers or {}).items() if key.lower() == "x-oauth-scopes"), None)
    if header is None:
        return Finding("Slack", "scopes", None, "Slack did not say which scopes the token has")
    granted = {scope.strip() for scope in str(header).split(",") if scope.strip()}
    missing = [scope for scope in BOT_SCOPES if scope not in granted]
    extra = sorted(granted - set(BOT_SCOPES))
    if missing:
        return Finding("Slack", "scopes", False, f"missing {', '.join(missing)}", FROM_MANIFEST)
    detail = f"all {len(BOT_SCOPES)} that manifest.yml asks for"
    if extra:
        detail += f"; also granted, and not needed: {', '.join(extra)} (remove them from the app to keep it least-privilege)"
    return Finding("Slack", "scopes", True, detail)


def _modes(settings: Settings) -> Iterator[Finding]:
    if settings.slack_app_token is not None:
        app_token = settings.slack_app_token.get_secret_value()
        opened, problem = _ask(lambda: WebClient(base_url=settings.slack_api_url, timeout=10)
                               .apps_connections_open(app_token=app_token))
        if opened is None:
            yield Finding("Slack", "Socket Mode", False, f"apps.connections.open failed: {SLACK_TOKEN_FAULTS.get(problem, problem)}",
                          f"create an app-level token with {APP_TOKEN_SCOPE} (Basic Information › App-Level Tokens) "
                          "and put it in SLACK_APP_TOKEN; turn Socket Mode on")
        else:
            yield Finding("Slack", "Socket Mode", True, "the app token opens a connection (for `epos run`)")
    if settings.slack_signing_secret is not None:
        yield Finding("Slack", "HTTP mode", True, "SLACK_SIGNING_SECRET is set (for `epos serve`)")
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        yield Finding("Slack", "run mode", False, "neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET is set",
                      "set SLACK_APP_TOKEN for Socket Mode (`epos run`) or SLACK_SIGNING_SECRET for HTTP mode (`epos serve`)")


def link_previews(settings: Settings) -> list[Finding]:
    """EPOS_UNFURL_DOMAINS against manifest.yml's `unfurl_domains`: Slack sends the links the manifest names,
    epos previews those the setting names, so a host in only one of them is never previewed."""
    from bot.services import asset_unfurls

    mine = settings.epos_unfurl_domains
    differ = asset_unfurls.domain_mismatch(mine)
    if differ is not None:
        only_manifest, only_setting = differ
        parts = []
        if only_manifest:
            parts.append(f"manifest.yml has {', '.join(only_manifest)}, which EPOS_UNFURL_DOMAINS lacks")
        if only_setting:
            parts.append(f"EPOS_UNFURL_DOMAINS has {', '.join(only_setting)}, which manifest.yml lacks")
        return [Finding("Slack", "link previews", False, "; ".join(parts) + ": links there are not previewed",
                        "list the same hosts in both: EPOS_UNFURL_DOMAINS and `features.unfurl_domains` in "
                        "manifest.yml (then update the app's manifest in Slack and reinstall it)")]
    return [Finding("Slack", "link previews", True, f"pasted links to {', '.join(mine)} are previewed")]


# ----- channels and people -------------------------------------------------------------------------------
CHANNELS = (("DIGEST_CHANNEL", "digest_channel", "the weekly digest is not posted"),
            ("DEVREL_CHANNEL", "devrel_channel", "unanswered DevRel requests are not raised to a channel"))


def _channels(settings: Settings, client: WebClient) -> Iterator[Finding]:
    for variable, attribute, without in CHANNELS:
        channel_id = getattr(settings, attribute)
        if not channel_id:
            yield Finding("Channels", variable, None, f"not set: {without}")
            continue
        found, problem = _ask(lambda: client.conversations_info(channel=channel_id))
        if found is None:
            fixes = {
                "channel_not_found": "check the id (README › Settings: where to find a channel id); "
                                     "for a private channel, invite the bot first",
                "missing_scope": "the token lacks channels:read: " + FROM_MANIFEST,
            }
            yield Finding("Channels", variable, False, f"{channel_id}: {problem}",
                          fixes.get(problem, "check the id, and that Slack can be reached"))
            continue
        channel = found.get("channel") or {}
        name = f"#{channel.get('name', channel_id)}"
        if sharing.read(channel_id, channel).external:
            yield Finding("Channels", variable, False, f"{name} ({channel_id}) is shared with another organisation, "
                          "and epos posts only internal content there",
                          f"point {variable} at a channel only your organisation is in")
        elif channel.get("is_archived"):
            yield Finding("Channels", variable, False, f"{name} ({channel_id}) is archived", f"point {variable} at another channel")
        elif not channel.get("is_member"):
            yield Finding("Channels", variable, False, f"{name} ({channel_id}): the bot is not a member",
                          f"type /invite @epos in {name}")
        else:
            yield Finding("Channels", variable, True, f"{name} ({channel_id}), the bot is a member")


def _people(settings: Settings, client: WebClient) -> Iterator[Finding]:
    for variable, user_ids in (("EPOS_ADMINS", settings.epos_admins), ("EPOS_MANAGERS", settings.epos_managers)):
        if not user_ids:
            worth = ("new assets publish at once, without review" if variable == "EPOS_ADMINS"
                     else "only admins see the team's figures")
            yield Finding("People", variable, None, f"empty: {worth}")
            continue
        found: list[str] = []
        problems: list[str] = []
        for user_id in user_ids:
            answer, problem = _ask(lambda: client.users_info(user=user_id))
            user = (answer or {}).get("user") or {}
            if answer is None:
                problems.append(f"{user_id}: {'no such person in this workspace' if problem == 'user_not_found' else problem}")
            elif user.get("deleted"):
                problems.append(f"{_name(user)} ({user_id}) is deactivated")
            elif user.get("is_bot"):
                problems.append(f"{_name(user)} ({user_id}) is a bot")
            else:
                found.append(f"{_name(user)} ({user_id}, {user.get('tz') or 'no timezone'})")
        if problems:
            yield Finding("People", variable, False, "; ".join(problems),
                          "use member ids of active people (README › Settings: where to find a member id)")
        if found:
            yield Finding("People", variable, True if not problems else None, ", ".join(found))


def _name(user: dict[str, Any]) -> str:
    profile = user.get("profile") or {}
    return str(profile.get("display_name") or user.get("real_name") or profile.get("real_name") or user.get("name")
               or user.get("id"))


# ----- content and the scheduler -----------------------------------------------------------------------
def _content(settings: Settings) -> Iterator[Finding]:
    from bot.services import assets, challenges, playbooks, roster

    try:
        loaded = playbooks.configure(settings.epos_playbooks)
        yield Finding("Content", "playbooks", True, f"{len(loaded)} stages")
    except ConfigError as error:
        yield Finding("Content", "playbooks", False, str(error), "correct the file EPOS_PLAYBOOKS names, or unset it "
                      "to use the shipped playbooks")
    try:
        chart = challenges.configure(settings.epos_challenges)
        yield Finding("Content", "challenge map", True, f"{len(chart.areas)} focus areas")
    except ConfigError as error:
        yield Finding("Content", "challenge map", False, str(error), "correct the file EPOS_CHALLENGES names, or "
                      "unset it to use the shipped challenge map")
    active = [member for member in roster.list_roster() if member.active]
    unfit = [member.name for member in active if not member.topics]
    if not active:
        yield Finding("Content", "roster", False, "no active DevRel people, so DevRel requests reach nobody",
                      "load the roster with `epos roster import FILE` (README › The roster)")
    elif unfit:
        yield Finding("Content", "roster", False, f"{len(active)} active; without topics: {', '.join(unfit)}",
                      "give each person the topics they can speak to (`epos roster import` or /devrel roster)")
    else:
        yield Finding("Content", "roster", True, f"{len(active)} active, each with topics, hours and a timezone")
    published = assets.published_count()
    yield Finding("Content", "catalogue", True if published else None,
                  f"{published} published assets" if published else "no published assets yet: `/asset` finds nothing "
                  "(`epos assets import FILE`, or /asset add)")


def _webhooks(now: datetime) -> Iterator[Finding]:
    """The stages' webhooks: each one's secret, and the calls that fail (README › Stage webhooks)."""
    import os

    from bot.services import hooks, playbooks

    try:
        books = playbooks.all_playbooks()
    except ConfigError:
        return  # the playbooks finding above names the fault
    configured = [(stage, book.webhook) for stage, book in books.items() if book.webhook is not None]
    if not configured:
        yield Finding("Webhooks", "stages", None, "no stage has a webhook (README › Stage webhooks)")
    for stage, hook in configured:
        name = f"{stage.value} webhook"
        if hook.secret_env and not os.environ.get(hook.secret_env):
            yield Finding("Webhooks", name, False, f"{hook.url}: {hook.secret_env} is not set, so its calls cannot "
                          "be signed and fail", f"set {hook.secret_env} in epos's environment to the secret the "
                          "receiver checks with, then restart epos")
        elif hook.secret is not None:
            yield Finding("Webhooks", name, None, f"{hook.url}: its secret is written in the playbooks file",
                          "move it into an environment variable and name that with secret_env")
        else:
            yield Finding("Webhooks", name, True, f"{hook.url}, signed with {hook.secret_env}")
    given_up, retrying = hooks.failing(now)

    def line(call: Any) -> str:
        return (f"{call.stage.label} ({call.event}) for {call.account} to {call.url}: "
                f"{call.attempts} attempts, last: {call.last_error or 'no answer'}")

    if given_up:
        yield Finding("Webhooks", "given up", False, "; ".join(line(call) for call in given_up),
                      "these calls were never received: check the receiver and its secret, then send them again "
                      "with `epos webhooks send-again --all` (later calls are sent as usual)")
    if retrying:
        yield Finding("Webhooks", "failing", None, "being retried: " + "; ".join(line(call) for call in retrying),
                      f"check the receiver: epos gives up after {hooks.MAX_ATTEMPTS} attempts")


def rollout(settings: Settings, now: datetime) -> list[Finding]:
    """EPOS_PILOT_ONLY against the pilots: with none running, the setting keeps nobody out (README › Pilot
    and rollout), which an admin who set it should hear rather than find out."""
    from bot.services import pilots

    if not settings.epos_pilot_only:
        return []
    today = now.astimezone(settings.timezone).date()
    warning = pilots.open_gate(today)
    if warning is None:
        names = ", ".join(pilot.name for pilot in pilots.running(today))
        return [Finding("Rollout", "EPOS_PILOT_ONLY", True,
                        f"epos answers only the audience of the running pilot ({names}): its members, the sellers "
                        "on their deals, DevRel, managers, admins and readers")]
    # A pilot still to start closes the gate by itself on its first day: worth knowing, nothing to fix.
    return [Finding("Rollout", "EPOS_PILOT_ONLY", False if warning.fix else None, warning.why, warning.fix)]


def _scheduler(settings: Settings, now: datetime) -> Iterator[Finding]:
    from bot.services import digest, ticks

    tz = settings.timezone
    last = ticks.last()
    if last is None:
        yield Finding("Scheduler", "running", False, "no scheduler has ticked yet",
                      "start `epos run` or `epos serve` (with SCHEDULER_IN_BOT=true), or `epos scheduler`")
    elif now - last > ticks.STOPPED_AFTER:
        yield Finding("Scheduler", "running", False, f"the last tick was {_how_long(now - last)} ago, at "
                      f"{_day_and_time(last.astimezone(tz))} {settings.epos_timezone}", "check that `epos scheduler` (or a bot with "
                      "SCHEDULER_IN_BOT=true) is running and reaches the database")
    else:
        yield Finding("Scheduler", "running", True, f"last tick {_day_and_time(last.astimezone(tz))} {settings.epos_timezone}")
    this_week, _ = digest.posting_window(now, tz, settings.digest_slot)
    next_digest = this_week if this_week > now else digest.posting_window(now + timedelta(days=7), tz,
                                                                          settings.digest_slot)[0]
    yield Finding("Scheduler", "next", None, f"digest {_day_and_time(next_digest)} {settings.epos_timezone}; nudges at "
                  f"{settings.nudge_time} on weekdays, in each SE's own timezone")


def _day_and_time(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b %H:%M}"


def _how_long(elapsed: timedelta) -> str:
    minutes = int(elapsed.total_seconds() // 60)
    for size, unit in ((1440, "day"), (60, "hour"), (1, "minute")):
        if minutes >= size or unit == "minute":
            count = minutes // size
            return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
    raise AssertionError("a minute is the smallest unit")
