"""The Web API client every part of epos uses: counted for operators, and silent once Slack has said the
token is gone (bot.revocation)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web import SlackResponse

from bot import db, revocation, telemetry

# Calls that post what others see (messages, previews). A Slack delivery's listener makes one only once
# its delivery is known not to be a copy of one handled before, as for a write (bot.db.check_before_writing).
POSTING = "chat."


class EposWebClient(WebClient):
    """A WebClient that counts its calls and stops calling Slack once Slack has said the token is gone."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        if api_method.startswith(POSTING):
            db.checked_before_writing()
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


def counted_retries(max_retry_count: int) -> list[RetryHandler]:
    """Slack's own retry handlers for connection errors, rate limits (after Retry-After) and 5xx answers."""
    return [_ConnectionRetries(max_retry_count=max_retry_count), _RateLimitRetries(max_retry_count=max_retry_count),
            _ServerErrorRetries(max_retry_count=max_retry_count)]
