"""What Slack is answered when a listener fails after its ack: the ack, never a 500 or an "unhandled"."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from slack_bolt import Ack, BoltRequest
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.app import EposApp, ListenerExecutor


class _AtOnce(ListenerExecutor):
    """Runs each listener before `submit` returns: the request thread then looks for the ack only once the
    listener's failure has been handled, the order that, under load, answered Slack 404 or 500."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        done: Future[Any] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as error:
            done.set_exception(error)
        return done


def test_a_listener_that_fails_after_its_ack_is_answered_with_its_ack_at_once() -> None:
    app = EposApp(
        client=WebClient(base_url="http://127.0.0.1:9/"),
        authorize=lambda **_: AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-1", bot_user_id="UB",
                                              bot_id="B1"),
        request_verification_enabled=False, process_before_response=False, listener_executor=_AtOnce(1),
    )
    told: list[Exception] = []
    app.error(lambda error: told.append(error))

    @app.command("/refused")
    def refuse(ack: Ack) -> None:
        ack("That is not for you.")
        raise PermissionError("refused after the ack")

    body = urllib.parse.urlencode({"command": "/refused", "text": "", "user_id": "U1", "team_id": "T1",
                                   "channel_id": "C1", "response_url": "http://127.0.0.1:9/r", "trigger_id": "1"})
    answer = app.dispatch(BoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]}))
    # Bolt alone waited out its ack timeout (3 s) here, then answered 404 "unhandled request".
    assert (answer.status, answer.body) == (200, "That is not for you.")
    assert [type(error) for error in told] == [PermissionError]
