"""What each person would see, rebuilt from the Web API calls the App made: DMs, group DMs, ephemeral
messages, response_url answers, updates, deletions, modals, App Homes and uploaded files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.tryout.workspace import (
    CHANNEL,
    DELETED,
    DM,
    EPHEMERAL,
    GROUP,
    HOME,
    MODAL,
    NEW,
    UPDATED,
    ResponseTarget,
    Workspace,
)
from tests.support.slack import Call

SAM, SALLY, LENA = "U0A1B2C3D", "U0S1A2B3C", "U0DR1A2B3"
NOW = datetime(2026, 11, 13, 9, 0, tzinfo=UTC)


def workspace(tmp_path: Path, uploads: dict[str, tuple[str, bytes]] | None = None) -> Workspace:
    return Workspace(tmp_path / "files", lambda: NOW, (uploads or {}).get)


def call(method: str, params: dict[str, Any], answer: dict[str, Any] | None = None, at: float = 0.0) -> Call:
    return Call(method, params, at=at, answer={"ok": True, **(answer or {})})


def test_posts_to_a_user_a_dm_a_group_and_a_channel_reach_the_right_people(tmp_path: Path) -> None:
    space = workspace(tmp_path)
    calls = [
        call("conversations.open", {"users": f"{SAM},{SALLY},{LENA}"}, {"channel": {"id": "G123"}}, at=1),
        call("chat.postMessage", {"channel": SAM, "text": "to sam"}, {"channel": SAM, "ts": "1.1"}, at=2),
        call("chat.postMessage", {"channel": "G123", "text": "to three"}, {"channel": "G123", "ts": "1.2"}, at=3),
        call("chat.postMessage", {"channel": "C0DEALS01", "text": "to all"}, {"channel": "C0DEALS01", "ts": "1.3"}, at=4),
        call("chat.postEphemeral", {"channel": "C0DEALS01", "user": LENA, "text": "psst"}, {"message_ts": "1.4"}, at=5),
    ]
    events = space.sync(calls, [])
    assert [e.kind for e in events] == [NEW, NEW, NEW, NEW]
    dm, group, channel, ephemeral = (e.post for e in events)
    assert dm is not None and dm.kind == DM and dm.visible_to(SAM) and not dm.visible_to(SALLY)
    assert group is not None and group.kind == GROUP and group.visible_to(LENA) and not group.visible_to("U0OTHER01")
    assert channel is not None and channel.kind == CHANNEL and channel.visible_to("U0OTHER01")
    assert ephemeral is not None and ephemeral.kind == EPHEMERAL and ephemeral.visible_to(LENA) and not ephemeral.visible_to(SAM)
    assert space.sync(calls, []) == []


def test_chat_update_keeps_what_it_is_not_given_and_failed_calls_change_nothing(tmp_path: Path) -> None:
    space = workspace(tmp_path)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "card"}}]
    calls = [call("chat.postMessage", {"channel": "C1", "text": "v1", "blocks": blocks}, {"channel": "C1", "ts": "9.1"}, at=1)]
    space.sync(calls, [])
    calls.append(call("chat.update", {"channel": "C1", "ts": "9.1", "text": "v2"}, at=2))
    calls.append(Call("chat.update", {"channel": "C1", "ts": "9.1", "text": "v3", "_fault": "ratelimited"}, at=3))
    calls.append(Call("chat.postMessage", {"channel": "C1", "text": "refused"}, at=4, answer={"ok": False, "error": "x"}))
    [event] = space.sync(calls, [])
    assert event.kind == UPDATED and event.post is not None
    assert (event.post.text, event.post.blocks, event.post.edited) == ("v2", blocks, True)
    calls.append(call("chat.delete", {"channel": "C1", "ts": "9.1"}, at=5))
    [deleted] = space.sync(calls, [])
    assert deleted.kind == DELETED and deleted.post is not None and deleted.post.deleted


def test_response_url_answers_replace_delete_or_add_as_slack_does(tmp_path: Path) -> None:
    space = workspace(tmp_path)
    original = space.add_post(kind=EPHEMERAL, channel_id="C1", ts="5.5", audience=frozenset({SAM}),
                              params={"text": "results", "blocks": [{"type": "divider"}]})
    space.expect_response("a", ResponseTarget(SAM, "C1", original))
    space.expect_response("b", ResponseTarget(SAM, "C1"))
    space.expect_response("c", ResponseTarget(SAM, "C1"))
    responses = [
        Call("response_url", {"_name": "a", "replace_original": True, "text": "page 2"}, at=1),
        Call("response_url", {"_name": "b", "text": "only you"}, at=2),
        Call("response_url", {"_name": "c", "response_type": "in_channel", "text": "for everyone"}, at=3),
        Call("response_url", {"_name": "unknown", "text": "lost"}, at=4),
    ]
    replaced, private, public = space.sync([], responses)
    assert replaced.kind == UPDATED and replaced.post is original and original.blocks == [] and original.text == "page 2"
    assert private.post is not None and private.post.kind == EPHEMERAL and private.post.audience == frozenset({SAM})
    assert public.post is not None and public.post.kind == CHANNEL and public.post.audience is None
    [gone] = space.sync([], responses + [Call("response_url", {"_name": "a", "delete_original": "true"}, at=5)])
    assert gone.kind == DELETED and original.deleted


def test_modals_open_for_whoever_triggered_them_and_updates_find_them_by_id(tmp_path: Path) -> None:
    space = workspace(tmp_path)
    space.expect_trigger("t1", SAM)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "One"}, "blocks": []}
    calls = [call("views.open", {"trigger_id": "t1", "view": view}, {"view": {**view, "id": "V1", "hash": "h1"}}, at=1),
             call("views.open", {"trigger_id": "stranger", "view": view}, {"view": {**view, "id": "V2"}}, at=2)]
    [opened] = space.sync(calls, [])
    assert opened.kind == MODAL and opened.user_id == SAM and space.top_modal(SAM).view["id"] == "V1"  # type: ignore[union-attr]
    updated_view = {**view, "title": {"type": "plain_text", "text": "Two"}}
    calls.append(call("views.update", {"view_id": "V1", "view": updated_view}, {"view": {**updated_view, "id": "V1"}}, at=3))
    [updated] = space.sync(calls, [])
    assert updated.user_id == SAM and space.top_modal(SAM).view["title"]["text"] == "Two"  # type: ignore[union-attr]
    calls.append(call("views.publish", {"user_id": SAM, "view": {"type": "home", "blocks": []}},
                      {"view": {"type": "home", "blocks": [], "id": "VH1"}}, at=4))
    [home] = space.sync(calls, [])
    assert home.kind == HOME and space.homes[SAM]["id"] == "VH1"


def test_an_uploaded_file_is_saved_and_posted_in_its_thread(tmp_path: Path) -> None:
    space = workspace(tmp_path, {"F1": ("digest chart.png", b"\x89PNG...")})
    parent = space.add_post(kind=CHANNEL, channel_id="C0DIGEST1", ts="7.7", audience=None, params={"text": "digest"})
    calls = [call("files.completeUploadExternal", {"channel_id": "C0DIGEST1", "thread_ts": "7.7",
                                                   "files": [{"id": "F1", "title": "MTTC trend"}]}, at=1)]
    [event] = space.sync(calls, [])
    post = event.post
    assert post is not None and space.parent_of(post) is parent and space.replies_to(parent) == [post]
    [saved] = post.files
    assert saved.title == "MTTC trend" and saved.path.name == "001-digest_chart.png"
    assert saved.path.read_bytes() == b"\x89PNG..."
