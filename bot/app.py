"""The one App factory. Socket Mode, HTTP mode, the tests and `epos try` all build the App here."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient

from bot import telemetry
from bot.inbound import read_as_form
from bot.blocks import speedup
from bot.config import Settings, require
from bot.slack_client import EposWebClient, counted_retries
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


class _KeptAck(Ack):
    """An ack whose answer, once given, stays given. When a listener fails after acking, Bolt's runner
    sets the ack's answer back to none, and for a moment marks the response it shares with the request
    thread as a 500. A request thread that looked after that answered Slack 404 "unhandled request" 3 s
    later, one that looked in the moment answered 500 (about 1 refusal in 40 to 150 under `epos serve`),
    although the ack had been given and the error handler tells the person what went wrong."""

    @property  # type: ignore[override]
    def response(self) -> BoltResponse | None:
        return getattr(self, "_given", None)

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is not None or getattr(self, "_given", None) is None:
            self._given = value


class EposApp(App):
    """The Bolt App, counting each request by kind and outcome and timing it to its ack: `dispatch` returns
    once the listener has acked (or a middleware answered), in Socket Mode and HTTP mode alike."""

    def _init_context(self, req: BoltRequest) -> None:
        super()._init_context(req)
        # Bolt gives each request a plain WebClient like the App's; listeners get epos's own (counted,
        # silent once the token is gone, posting only what a settled delivery may post) with the same setup.
        plain, own = req.context["client"], type(self._client)
        if type(plain) is not own:
            req.context["client"] = own(token=plain.token, base_url=plain.base_url, timeout=plain.timeout,
                                        ssl=plain.ssl, proxy=plain.proxy, headers=plain.headers,
                                        team_id=req.context.team_id, logger=plain.logger,
                                        retry_handlers=plain.retry_handlers)

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        req = read_as_form(req)
        kind = telemetry.request_kind(req.body if isinstance(req.body, dict) else {})
        started = time.perf_counter()
        req.context["ack"] = _KeptAck()
        response = super().dispatch(req)
        # The ack the listener was given: a middleware may have put its own in place of this one.
        given = req.context.get("ack")
        if response.status == 500 and given is not None and given.response is not None:
            response = given.response  # the moment described at _KeptAck
        telemetry.ACK_SECONDS.labels(kind).observe(time.perf_counter() - started)
        telemetry.REQUESTS.labels(kind, telemetry.outcome_of(response.status)).inc()
        return response


class ListenerExecutor(ThreadPoolExecutor):
    """The listeners' threads, counting the work given to them, so that a stop can wait for what was acked.

    Bolt runs each listener here (and its work after `ack()`, and the error handler), so when nothing is
    unfinished here, nothing a person was promised is still being done."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._settled = threading.Condition()
        self._unfinished = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._settled:
            self._unfinished += 1
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._finished(None)
            raise
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future: Future[Any] | None) -> None:
        with self._settled:
            self._unfinished -= 1
            if self._unfinished == 0:
                self._settled.notify_all()

    def wait_until_settled(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for every piece of work to finish; what is still unfinished then."""
        deadline = time.monotonic() + timeout
        with self._settled:
            while self._unfinished and (remaining := deadline - time.monotonic()) > 0:
                self._settled.wait(remaining)
            return self._unfinished


def make_client(settings: Settings) -> WebClient:
    require(settings, "SLACK_BOT_TOKEN")
    assert settings.slack_bot_token is not None
    client = EposWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=counted_retries(MAX_RETRIES),
    )
    return client


def create_app(settings: Settings, *, client: WebClient | None = None) -> App:
    speedup.install()
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
        listener_executor=ListenerExecutor(LISTENER_THREADS, thread_name_prefix="epos-listener"),
    )
    register_all(app, settings)
    return app
