"""What a person does in a conversation besides commands: posting a message (`:say`, whose links to the
catalogue epos previews) and using a shortcut on a message or from the shortcuts menu (`:shortcut`)."""

from __future__ import annotations

import re

from bot.ids import ShortcutIds
from bot.slackmock import BOT_USER_ID
from bot.tryout.payloads import MessageRef
from bot.tryout.step import Step
from bot.tryout.workspace import ResponseTarget

# The shortcuts as Slack lists them (manifest.yml names them the same).
MESSAGE_SHORTCUTS = {
    "Find assets for this message": ShortcutIds.find_assets,
    "Add to an engagement": ShortcutIds.add_to_engagement,
    "Ask DevRel about this": ShortcutIds.ask_devrel,
}
GLOBAL_SHORTCUTS = {"Add an asset": ShortcutIds.add_asset}
_LINK = re.compile(r"https?://[^\s<>|]+")
SHORTCUT_USAGE = (":shortcut N NAME uses a shortcut on message #N ({message}); :shortcut NAME one from the shortcuts "
                  "menu ({menu})")


def _named(text: str, shortcuts: dict[str, ShortcutIds]) -> tuple[str, ShortcutIds] | None:
    """The shortcut whose name starts with what was typed, ignoring case."""
    typed = " ".join(text.split()).casefold()
    found = [(name, callback) for name, callback in shortcuts.items() if typed and name.casefold().startswith(typed)]
    return found[0] if len(found) == 1 else None


class Conversation:
    """Posting and shortcuts, for `TrySession`."""

    def _say(self, rest: str) -> Step:
        if self.form is not None:
            return Step(error=f"a form is open ({self.form.title}): finish it, or :cancel it first")
        if not rest.strip():
            return Step(error="say what: :say TEXT posts TEXT as you where you are typing, e.g. :say see "
                              "https://assets.example.com/demos/kubernetes-cluster-health")
        self.on_home = False
        post = self.workspace.add_message(self.persona.user_id, self.channel_id, rest.strip())
        ts = post.ts
        step = Step()
        links = list(dict.fromkeys(_LINK.findall(rest)))
        if links:
            # Slack tells the app of every link on its domains; epos decides which it previews.
            event = self.payloads.link_shared(self._person(), self.channel_id, ts, links)
            step = self._check_status(self.wire.post_event(self.payloads.event_envelope(event)), "the link")
        return self._after(step, immediate=[post])

    def _shortcut(self, rest: str) -> Step:
        if self.form is not None:
            return Step(error=f"a form is open ({self.form.title}): finish it, or :cancel it first")
        usage = SHORTCUT_USAGE.format(message=", ".join(MESSAGE_SHORTCUTS), menu=", ".join(GLOBAL_SHORTCUTS))
        number, _, name = rest.strip().partition(" ")
        if not number.isdigit():
            chosen = _named(rest, GLOBAL_SHORTCUTS)
            if chosen is None:
                return Step(error=usage)
            response = self.wire.post_payload(self.payloads.global_shortcut(self._person(), chosen[1], self._trigger()))
            return self._after(self._check_status(response, chosen[0]))
        post = self.workspace.post(int(number))
        chosen = _named(name, MESSAGE_SHORTCUTS)
        if post is None or not post.visible_to(self.persona.user_id) or post.deleted:
            return Step(error=f"there is no message #{number} you can see; :open N shows one")
        if chosen is None:
            return Step(error=usage)
        response_name = self._response_name()
        self.workspace.expect_response(response_name, ResponseTarget(self.persona.user_id, post.channel_id))
        ref = MessageRef(channel_id=post.channel_id, channel_name=self._conversation_name(post), ts=post.ts,
                         ephemeral=post.ephemeral, text=post.text, blocks=post.blocks,
                         response_url=self._response_url(response_name), thread_ts=post.thread_ts)
        payload = self.payloads.message_shortcut(self._person(), chosen[1], ref, post.author or BOT_USER_ID,
                                                 self._trigger())
        return self._after(self._check_status(self.wire.post_payload(payload), chosen[0]))
