"""One question line for the screens' prompts (grid filter, the log pane's follow/search/…).

A :class:`Prompt` is shown only while it has focus: :meth:`Prompt.open` shows and focuses
it, and Enter, Escape or focus moving elsewhere closes it and hands focus back to whatever
had it before. Its hint sits in the top border, so it stays readable when the value is
pre-filled, and the footer shows the prompt's own keys (Enter with the prompt's verb, Esc)
instead of the screen's: screens hide theirs with :func:`prompt_focused` in
``check_action``.

The prompt decides nothing. Enter asks the ``accept`` callback given to :meth:`Prompt.open`
(if any) to take the value; when it refuses (and has said why), the prompt stays open to fix
the value, else it closes and posts :class:`Prompt.Submitted`. Escape closes it, calls the
``cancel`` callback (the screen undoes what typing did live) and posts
:class:`Prompt.Cancelled`. The callbacks run at once, in key order; the messages are for
anyone else who listens.

Keys arrive in bursts (``tmux send-keys``, a fast typist), and Textual routes each key to
the widget focused when the app reads it, before earlier keys have run. So focus moves at
once when a prompt opens or closes (never on a later tick), the prompt's bound keys (Enter,
Escape, Backspace…) run in the prompt's own key order, and keys that were already on their
way to a prompt which has closed go on to the widget that has focus now. Screens bind the
keys that open a prompt with ``priority=True`` so the app opens it before it routes the next
key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input


class Prompt(Input):
    """A hidden one-line input that asks one question at a time."""

    BINDINGS = [
        Binding("enter", "submit", "Apply"),
        Binding("escape", "cancel", "Cancel"),
    ]

    @dataclass
    class Submitted(Message):
        """Enter: ``value`` was taken (by ``accept``, if given) and the prompt has closed."""

        prompt: Prompt
        value: str

        @property
        def control(self) -> Prompt:
            return self.prompt

    @dataclass
    class Cancelled(Message):
        """Escape, or focus moved away: the prompt has closed."""

        prompt: Prompt

        @property
        def control(self) -> Prompt:
            return self.prompt

    def __init__(
        self,
        hint: str = "",
        *,
        verb: str = "Apply",
        placeholder: str = "",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        # Not select_on_focus: a pre-filled value is edited (cursor at its end), not replaced.
        super().__init__(
            placeholder=placeholder, id=id, classes=classes, select_on_focus=False
        )
        self.border_title = hint
        self._return_focus: Widget | None = None
        self._accept: Callable[[str], bool] | None = None
        self._cancel: Callable[[], None] | None = None
        self.verb = verb
        self._set_verb(verb)

    def _set_verb(self, verb: str) -> None:
        # The footer shows a binding's description; one binding per instance carries its verb.
        self.verb = verb
        self._bindings.key_to_bindings["enter"] = [Binding("enter", "submit", verb)]
        if self.is_attached:
            self.refresh_bindings()

    def on_mount(self) -> None:
        self.display = False

    @property
    def is_open(self) -> bool:
        return bool(self.display)

    def open(
        self,
        value: str = "",
        *,
        hint: str | None = None,
        verb: str | None = None,
        accept: Callable[[str], bool] | None = None,
        cancel: Callable[[], None] | None = None,
        password: bool = False,
    ) -> None:
        """Show the prompt pre-filled with ``value`` and give it focus (now, not next tick).

        ``password``: what is typed is shown as dots, and the value is cleared when the
        prompt closes (a secret is handed to ``accept`` and kept nowhere else).

        ``accept(value)`` runs on Enter, before the prompt closes: False keeps it open.
        ``cancel()`` runs when it closes without Enter. Both run right away, not through a
        message, so the keys typed next see their effect.
        """
        self._accept = accept
        self._cancel = cancel
        if hint is not None:
            self.border_title = hint
        if verb is not None and verb != self.verb:
            self._set_verb(verb)
        focused = self.screen.focused
        if focused is not self:
            self._return_focus = focused
        self.password = password
        self.value = value
        self.cursor_position = len(value)
        self.display = True
        self.screen.set_focus(self)

    def close(self) -> None:
        """Hide the prompt and give focus back to the widget that had it before."""
        if not self.display:
            return
        self.display = False
        if self.password:
            self.value = ""
            self.password = False
        target = self._return_focus
        self._return_focus = None
        screen = self.screen
        if target is not None and target.is_attached and target.display:
            screen.set_focus(target)
        elif screen.focused is self:
            screen.set_focus(None)
            screen.focus_next()

    async def action_submit(self) -> None:
        if self._accept is not None and not self._accept(self.value):
            return
        self.close()
        self.post_message(self.Submitted(self, self.value))

    def action_cancel(self) -> None:
        self.close()
        if self._cancel is not None:
            self._cancel()
        self.post_message(self.Cancelled(self))

    async def _on_key(self, event: events.Key) -> None:
        if not self.display or not self._focused:
            # Sent here before this prompt closed: it belongs to whoever has focus now. The app
            # routes it again, bindings with priority (the one that opens a prompt) included.
            event.stop()
            event.prevent_default()
            self.app.post_message(events.Key(event.key, event.character))
            return
        bindings = self._bindings.key_to_bindings.get(event.key)
        if bindings:
            # Bound keys (Enter, Escape, Backspace, ctrl+u, arrows…) run here, in key order,
            # not as bindings: the app checks those only after the keys that followed were
            # routed, so Enter would see the value typed after it.
            event.stop()
            event.prevent_default()
            for binding in bindings:
                if await self.app.run_action(binding.action, self):
                    break
            return
        # Printable keys: Input's own handler runs next.

    def on_blur(self, _: events.Blur) -> None:
        # Focus went elsewhere (a click on the grid, say): a prompt that cannot be typed into
        # must not stay on screen, and what it held is not taken.
        if self.display and not self._focused:
            self.action_cancel()

    @property
    def _focused(self) -> bool:
        # The screen's word, not ``has_focus``: that one follows Focus/Blur messages, later.
        return self.screen.focused is self


def prompt_focused(screen: Screen[Any]) -> bool:
    """True while a prompt has the focus: the screen's own keys are hidden and off then."""
    return isinstance(screen.focused, Prompt)
