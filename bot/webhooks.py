"""Calling a stage's webhook: one signed HTTP POST, with a timeout, and what came of it.

The signature lets a receiver check that a call comes from epos and was not replayed:

    X-Epos-Timestamp: 1796645400                  (Unix seconds when this attempt was sent)
    X-Epos-Signature: v1=<hex HMAC-SHA256 of "v1:" + timestamp + ":" + the raw body, keyed by the secret>
    X-Epos-Delivery:  <the delivery id; the same on every attempt of one call, so a receiver can drop repeats>

A receiver recomputes the HMAC over the raw body it got, compares in constant time, and refuses a timestamp
more than five minutes from its own clock (`verify` is that check). Each attempt is signed afresh, so a retry
an hour later still passes. Redirects are not followed: a webhook address that moved is a fault to fix.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

SIGNATURE_VERSION = "v1"
TIMESTAMP_HEADER = "X-Epos-Timestamp"
SIGNATURE_HEADER = "X-Epos-Signature"
DELIVERY_HEADER = "X-Epos-Delivery"
EVENT_HEADER = "X-Epos-Event"
USER_AGENT = "epos-webhooks/1"
TIMEOUT_SECONDS = 10.0
REPLAY_WINDOW_SECONDS = 300
ANSWER_SHOWN = 200


@dataclass(frozen=True)
class Answer:
    """What a call came to: `ok` for a 2xx answer; otherwise `error` says what went wrong, for people."""

    ok: bool
    status: int | None = None
    error: str = ""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{SIGNATURE_VERSION}:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify(secret: str, timestamp: str, signed: str, body: bytes, *, now: datetime,
           window: int = REPLAY_WINDOW_SECONDS) -> bool:
    """A receiver's check of a call: the signature matches the body and the timestamp is recent."""
    try:
        moment = int(timestamp)
    except ValueError:
        return False
    if abs(now.timestamp() - moment) > window:
        return False
    return hmac.compare_digest(signature(secret, moment, body), signed)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None  # urllib then raises HTTPError with the 3xx, which counts as a failed call


_opener = urllib.request.build_opener(_NoRedirects)


def call(url: str, body: bytes, *, secret: str, delivery_id: str, event: str, now: datetime,
         timeout: float = TIMEOUT_SECONDS) -> Answer:
    """POST `body` (JSON) to `url`, signed with `secret` at `now`. Never raises for the network or the answer."""
    timestamp = int(now.timestamp())
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        DELIVERY_HEADER: delivery_id,
        EVENT_HEADER: event,
    })
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = int(response.status)
            if 200 <= status < 300:
                return Answer(ok=True, status=status)
            return Answer(ok=False, status=status, error=f"HTTP {status}")
    except urllib.error.HTTPError as error:
        try:
            text = error.read(ANSWER_SHOWN * 4).decode("utf-8", "replace").strip()
        except OSError:
            text = ""
        shown = f": {' '.join(text.split())[:ANSWER_SHOWN]}" if text else ""
        return Answer(ok=False, status=error.code, error=f"HTTP {error.code}{shown}")
    except urllib.error.URLError as error:
        reason = error.reason
        return Answer(ok=False, error=f"could not connect: {reason}")
    except TimeoutError:
        return Answer(ok=False, error=f"no answer within {timeout:g} seconds")
    except (OSError, ValueError) as error:
        return Answer(ok=False, error=f"{type(error).__name__}: {error}")
