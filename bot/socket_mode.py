"""Socket Mode (`epos run`): the WebSocket to Slack, and a stop that finishes what was acked.

Bolt's SocketModeHandler connects, reconnects when Slack asks it to refresh or the connection drops,
and acknowledges each envelope once its listener acks. What it lacks is a way to stop: ended at once,
the process cuts off the work listeners do after their ack (the answer, the post, the saved row), which
the person was already promised. `SocketModeRunner.stop` stops taking envelopes, lets the ones being
acked finish, closes the connection, and waits, within a bound, for the listeners' work.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.app import ListenerExecutor

log = logging.getLogger(__name__)

# Bolt's own default: how often the connection is checked, and a dead one replaced.
PING_INTERVAL_SECONDS = 10.0


class SocketModeRunner:
    def __init__(self, app: App, app_token: str, *, ping_interval: float = PING_INTERVAL_SECONDS) -> None:
        executor = app.listener_runner.listener_executor
        if not isinstance(executor, ListenerExecutor):
            raise TypeError("the App must be built by bot.app.create_app, whose listener threads can be waited for")
        self._listeners = executor
        self._handler = SocketModeHandler(app, app_token, ping_interval=ping_interval)
        # Every envelope passes through `_handle`, which refuses new ones once a stop has begun.
        self._handler.client.socket_mode_request_listeners[:] = [self._handle]
        self._acking = threading.Condition()
        self._in_hand = 0
        self._stopping = False

    def _end_the_receive(self) -> None:
        """slack_sdk closes the socket under its reader's lock, which the reader holds through a receive that
        gives up only after 3 seconds; shut down first, the socket ends that receive at once. (The close
        itself sends no close frame either way.)"""
        client = self._handler.client
        # As close does first: a receive that ends now must not be taken for a lost connection and reopened.
        client.closed = True
        client.auto_reconnect_enabled = False
        sock = getattr(getattr(client, "current_session", None), "sock", None)
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by the other end

    def connect(self) -> None:
        """Open the connection (Bolt reconnects by itself from then on) and return."""
        self._handler.connect()

    @property
    def stopping(self) -> bool:
        with self._acking:
            return self._stopping

    def _handle(self, client: BaseSocketModeClient, request: SocketModeRequest) -> None:
        with self._acking:
            if self._stopping:
                # Unacknowledged, the envelope is sent again by Slack, to a connection that is staying.
                log.info("stopping: left an envelope (%s) for Slack to deliver again", request.type)
                return
            self._in_hand += 1
        try:
            self._handler.handle(client, request)  # type: ignore[arg-type]
        finally:
            with self._acking:
                self._in_hand -= 1
                self._acking.notify_all()

    def stop(self, grace: float) -> int:
        """Stop taking envelopes, finish the ones in hand, close the connection, and wait for the work
        the listeners go on with after their ack. Returns how much of that work was still unfinished
        when `grace` seconds had passed (0 when everything was done)."""
        deadline = time.monotonic() + grace
        with self._acking:
            self._stopping = True
            log.info("no longer taking envelopes; finishing the work already acknowledged (up to %gs)", grace)
            while self._in_hand and (remaining := deadline - time.monotonic()) > 0:
                self._acking.wait(remaining)
        # Acks go out on the connection, so it closes only now; what follows goes through the Web API.
        # slack_sdk's close waits for its reader thread, which can start reading again while the socket
        # closes and then never ends: so the close runs aside, and is waited for only within the grace.
        self._end_the_receive()
        closing = threading.Thread(target=self._handler.close, name="epos-socket-close", daemon=True)
        closing.start()
        unfinished = self._listeners.wait_until_settled(max(0.0, deadline - time.monotonic()))
        closing.join(max(0.0, deadline - time.monotonic()))
        return unfinished
