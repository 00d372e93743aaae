"""What epos accepts from Slack over HTTP, checked before Bolt reads a byte of it: the request's
signature, and a body that is a Slack payload Bolt can read."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict
from slack_bolt import BoltRequest
from slack_bolt.request.internals import build_context
from slack_bolt.request.payload_utils import (to_action, to_command, to_event, to_message, to_options, to_shortcut,
                                              to_step, to_view)

# Slack refuses a request whose timestamp is further than this from now, so a captured one cannot be replayed.
SIGNATURE_WINDOW_SECONDS = 300
# Slack's deepest payloads (a view's rich text in its state) nest a dozen levels; the limit keeps
# recursive code downstream far from Python's recursion limit.
MAX_NESTING = 64


def signed_by(secret: str, timestamp: str, signature: str, body: bytes, *, now: float | None = None) -> bool:
    """Slack's request signature, checked on the raw bytes (whatever they hold) in constant time."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
        return False
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    # WSGI hands headers over as latin-1 text, so any header value encodes back to its bytes.
    return hmac.compare_digest(expected.encode(), signature.encode("latin-1"))


def nesting(node: Any) -> int:
    """How deep lists and objects nest in a parsed payload, counted without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_NESTING:
                break
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


class _Shaped(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Event(_Shaped):
    type: str = ""
    subtype: str | None = None


class _Action(_Shaped):
    action_id: str = ""
    block_id: str = ""


class _View(_Shaped):
    callback_id: str = ""


class SlackEnvelope(_Shaped):
    """The parts of a payload that Bolt's own middleware and listener matching read without checking
    their type: where Slack always sends an object (or a list of them), anything else is malformed.
    A field Slack leaves out is fine, and so is `null` where Bolt copes with it."""

    type: str = ""
    event: _Event = None  # type: ignore[assignment]
    view: _View = None  # type: ignore[assignment]
    actions: list[_Action] = None  # type: ignore[assignment]
    authorizations: list[dict[str, Any]] = None  # type: ignore[assignment]
    user: dict[str, Any] | str | None = None
    team: dict[str, Any] | str | None = None
    enterprise: dict[str, Any] | str | None = None
    channel: dict[str, Any] | str | None = None
    container: dict[str, Any] | None = None
    message: dict[str, Any] | None = None
    callback_id: str = ""
    command: str = ""


# How Bolt reads a payload before any of epos's code runs (its kwargs for middleware and listeners).
BOLT_READERS = (to_options, to_shortcut, to_action, to_view, to_command, to_event, to_message, to_step)
# What Bolt raises on a body that is not a Slack payload: not UTF-8 or JSON (ValueError), too deep to
# parse (RecursionError), or values of the wrong type where Slack always sends an object.
UNREADABLE = (ValueError, RecursionError, TypeError, AttributeError, KeyError, IndexError)


def check_payload(body: Any) -> None:
    """Raises one of UNREADABLE unless `body`, as Bolt parsed it, is a payload Bolt can read."""
    if not isinstance(body, dict) or nesting(body) > MAX_NESTING:
        raise ValueError("not a Slack payload")
    SlackEnvelope.model_validate(body)
    for read in BOLT_READERS:
        read(body)


def read_as_form(request: BoltRequest) -> BoltRequest:
    """Bolt takes a form body with the word "payload" anywhere in it (a command's text: `/engagement
    payload`, `/asset payload injection`) for an interactive payload, finds no `payload` field, and reads
    nothing; the request would then be refused as coming from another installation. Read such a body as
    the form it is."""
    raw = request.raw_body
    if request.body or not raw or raw.lstrip().startswith("{") or "payload" not in raw:
        return request
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    if fields and "payload" not in fields:
        request.body = fields
        request.context = build_context(request.context, fields)
    return request
