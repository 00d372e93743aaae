"""The acks listeners are given: once sent, an answer stays sent; a form answered with field errors gives its
delivery's claim back, and its errors land on blocks the form has."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltResponse

from bot.services.deliveries import Claim


class SettledAck(Ack):
    """An ack that, once sent, stays sent.

    When a listener raises after `ack()`, Bolt's thread runner (1.30, process_before_response off)
    sets the ack's response back to None. If its 10 ms poll had not yet seen the ack, the request
    then waits out the 3 s ack timeout and is answered 404, so Slack shows the person a failure on
    top of the message the error handler sends. A sent answer is what Slack must receive."""

    @property  # type: ignore[override]
    def response(self) -> BoltResponse | None:
        return getattr(self, "_response", None)

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is None and self.response is not None:
            return
        self._response = value


def onto_the_form(errors: dict[str, str], view: dict[str, Any]) -> dict[str, str]:
    """Field errors placed on input blocks the submitted form has. Slack refuses a whole errors answer
    that names any other block (the person then sees only "trouble connecting"), so a message meant
    for a block this form lacks (a mangled form, a field another variant has) goes on its first input."""
    inputs = [b["block_id"] for b in view.get("blocks") or [] if b.get("type") == "input" and b.get("block_id")]
    if not inputs:
        return errors
    placed: dict[str, str] = {}
    for block_id, message in errors.items():
        target = block_id if block_id in inputs else inputs[0]
        placed[target] = f"{placed[target]} {message}" if target in placed else message
    return placed


# What giving a form's claim back may add to its answer; past it, it is given back in the background.
GIVE_BACK_SECONDS = 0.3


class ForgettingAck(SettledAck):
    """An ack that gives the delivery's claim back when it answers with field errors: nothing was done,
    so the same values submitted again (say, after a "submit again to confirm" warning) must be handled."""

    def __init__(self, claim: Claim | None, view: dict[str, Any]) -> None:
        super().__init__()
        self.claim = claim
        self.view = view

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        if kwargs.get("response_action") == "errors":
            if isinstance(kwargs.get("errors"), dict):
                kwargs["errors"] = onto_the_form(kwargs["errors"], self.view)
            # Before the answer leaves: once Slack has it, the person may submit again at once.
            if self.claim is not None:
                self.claim.failed(within=GIVE_BACK_SECONDS)
        return super().__call__(*args, **kwargs)
