"""Two real `epos scheduler` processes ticking at the same instant on one database: one digest, one
nudge per SE."""

from __future__ import annotations

import subprocess
import sys

from bot.config import Settings
from bot.services import claims
from tests.conftest import BOT_TOKEN, SE
from tests.scheduler_helpers import SE2, hand_computed_week
from tests.support.slack import MockSlack


def test_two_scheduler_processes_post_one_digest_and_one_nudge_per_se(settings: Settings, slack: MockSlack,
                                                                      tmp_path) -> None:  # type: ignore[no-untyped-def]
    slack.add_user(SE, name="Dana Reyes", tz="Europe/Berlin")
    slack.add_user(SE2, name="Sam Okafor", tz="Europe/Berlin")
    hand_computed_week()
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": settings.database_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "EPOS_TIMEZONE": "Europe/Berlin",
        "DIGEST_CHANNEL": "C0DIGEST1",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "bot", "scheduler", "--once", "--at", "2026-11-23T09:00"]
    processes = [subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=90) for process in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert "Traceback" not in err
    summaries = sorted(out.strip() for out, _ in outputs)
    assert all(s.startswith("ticked at 2026-11-23 09:00 CET") for s in summaries)

    posts = [c for c in slack.calls_to("chat.postMessage") if "_fault" not in c.params]
    digests = [c for c in posts if c.params["channel"] == "C0DIGEST1" and not c.params.get("thread_ts")]
    assert len(digests) == 1
    assert sorted(c.params["channel"] for c in posts if c.params["channel"] in (SE, SE2)) == [SE, SE2]
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    state = claims.state("digest", "2026-W47")
    assert state is not None and state.done and state.attempts == 1
