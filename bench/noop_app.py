"""The floor for the ack benchmark: a Bolt App that verifies signatures and acks `/asset`, nothing more,
served by the same gunicorn set-up as `epos serve`."""

from __future__ import annotations

import os

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

noop = App(
    client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
)


@noop.command("/asset")
def ack_only(ack: Ack) -> None:
    ack()


wsgi = SlackRequestHandler(noop, path="/slack/events")
