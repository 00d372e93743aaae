"""The one App factory. Socket Mode, HTTP mode, the tests and `epos try` all build the App here."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot import revocation, telemetry
from bot.config import Settings, require
from handlers import register_all

# Bounded: a Slack outage must not hold a worker thread for minutes.
MAX_RETRIES = 2
# Listeners call ack() on these threads, so when they are all busy a new request cannot ack. Bolt's
# default of 5 fills up as soon as five people wait on a slow Slack call, and the sixth then misses
# Slack's 3-second deadline; the threads mostly wait on the network, so many are cheap.
LISTENER_THREADS = 64


class _TokenFromClient(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself and, finding our client too, warns that the
    token will be unused. The client carries that very token, so the warning is not one: it is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


BOLT_LOG = logging.getLogger("slack_bolt.epos")
BOLT_LOG.addFilter(_TokenFromClient())


class EposWebClient(WebClient):
    """The Web API client, counted for operators, which stops calling Slack once Slack has said the token
    is gone (bot.revocation)."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        reason = revocation.revoked()
        if reason is not None:
            telemetry.SLACK_CALLS.labels(api_method, "not_called").inc()
            refusal = SlackResponse(client=self, http_verb="POST", api_url=api_method, req_args={},
                                    data={"ok": False, "error": "token_revoked"}, headers={}, status_code=200)
            raise SlackApiError(f"{api_method} was not called: {reason}", refusal)
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            code = str(error.response.get("error") or "error")
            telemetry.SLACK_CALLS.labels(api_method, code).inc()
            if code in revocation.TOKEN_GONE:
                revocation.mark(f"{api_method} was answered {code}")
            raise
        except OSError:
            telemetry.SLACK_CALLS.labels(api_method, "unreachable").inc()
            raise
        telemetry.SLACK_CALLS.labels(api_method, "ok").inc()
        return response


class _CountedRetries:
    """A retry handler that counts each retry it makes, by its reason."""

    reason = ""

    def prepare_for_next_attempt(self, **kwargs: Any) -> None:
        telemetry.SLACK_RETRIES.labels(self.reason).inc()
        super().prepare_for_next_attempt(**kwargs)  # type: ignore[misc]


class _ConnectionRetries(_CountedRetries, ConnectionErrorRetryHandler):
    reason = "connection"


class _RateLimitRetries(_CountedRetries, RateLimitErrorRetryHandler):
    reason = "ratelimited"


class _ServerErrorRetries(_CountedRetries, ServerErrorRetryHandler):
    reason = "server_error"


class EposApp(App):
    """The Bolt App, counting each request by kind and outcome and timing it to its ack: `dispatch` returns
    once the listener has acked (or a middleware answered), in Socket Mode and HTTP mode alike."""

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        kind = telemetry.request_kind(req.body if isinstance(req.body, dict) else {})
        started = time.perf_counter()
        response = super().dispatch(req)
        telemetry.ACK_SECONDS.labels(kind).observe(time.perf_counter() - started)
        telemetry.REQUESTS.labels(kind, telemetry.outcome_of(response.status)).inc()
        return response


def make_client(settings: Settings) -> WebClient:
    require(settings, "SLACK_BOT_TOKEN")
    assert settings.slack_bot_token is not None
    client = EposWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            _ConnectionRetries(max_retry_count=MAX_RETRIES),
            _RateLimitRetries(max_retry_count=MAX_RETRIES),
            _ServerErrorRetries(max_retry_count=MAX_RETRIES),
        ],
    )
    return client


def create_app(settings: Settings, *, client: WebClient | None = None) -> App:
    client = client or make_client(settings)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = EposApp(
        client=client,
        # Left to itself, Bolt gives its loggers the root's level, so at LOG_LEVEL=DEBUG they would print
        # each answer carried by an ack (the person's query, the cards). Under `slack_bolt` they follow
        # the cap that bot.logs puts on that library.
        logger=BOLT_LOG,
        signing_secret=secret,
        request_verification_enabled=secret is not None,
        # Socket Mode and HTTP mode both answer Slack as soon as a listener acks; slow work goes on after.
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="epos-listener"),
    )
    register_all(app, settings)
    return app
