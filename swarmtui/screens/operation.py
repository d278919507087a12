"""The one confirmation dialog and the one outcome dialog, for every operation.

:class:`ConfirmOperationScreen` shows a plan's preview (blocks, what could not be previewed,
the summary) and returns True only when the user presses the action button, after typing
the confirmation text when the preview asks for one. :class:`OutcomeScreen` shows what the
engine did. Neither talks to an engine: :meth:`SwarmScreen.run_operation` drives them.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from swarmtui.ops.base import Outcome, Preview


class ConfirmOperationScreen(ModalScreen[bool]):
    """The preview and Confirm / Cancel. Cancel (or Escape) returns False."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, preview: Preview, *, can_execute: bool = True, verb: str = "Confirm",
                 refusal: str = "") -> None:
        super().__init__()
        self.preview = preview
        self.can_execute = can_execute
        self.verb = verb
        self.refusal = refusal

    @property
    def typed(self) -> bool:
        return self.preview.typed_confirmation is not None and not self.preview.empty

    def compose(self) -> ComposeResult:
        p = self.preview
        with Vertical(id="confirm-box", classes="op-box"):
            yield Static(Text(p.title, style="bold"), id="confirm-title")
            with VerticalScroll(id="confirm-preview"):
                for block in p.blocks:
                    yield Static(Text(block, no_wrap=True), classes="op-block")
                for problem in p.problems:
                    yield Static(Text(problem), classes="op-problem")
            yield Static(self._summary(), id="confirm-summary")
            if self.typed:
                warning = f"{p.warning} " if p.warning else ""
                yield Static(
                    Text.assemble(warning, "Type ", (str(p.typed_confirmation), "bold"),
                                  " to confirm:"),
                    id="confirm-type-hint",
                )
                yield Input(placeholder=p.typed_confirmation or "", id="confirm-typed")
                yield Static("", id="confirm-typed-wrong", classes="op-problem")
            with Horizontal(id="confirm-buttons"):
                yield Button(self.verb, id="confirm-yes", variant="error",
                             disabled=self._disabled(""))
                yield Button("Cancel", id="confirm-no", variant="primary")

    def _summary(self) -> str:
        if not self.can_execute:
            return self.refusal or "Read-only mode: this change is disabled."
        if self.preview.empty:
            return self.preview.summary or "Nothing to change."
        return self.preview.summary

    def _disabled(self, typed: str) -> bool:
        if not self.can_execute or self.preview.empty:
            return True
        return self.typed and typed.strip() != self.preview.typed_confirmation

    def on_mount(self) -> None:
        if self.typed:
            self.query_one("#confirm-typed-wrong").display = False
        if self.typed and self.can_execute:
            self.query_one("#confirm-typed", Input).focus()
        else:
            self.query_one("#confirm-no", Button).focus()

    def _wrong_text(self) -> str:
        return f"Type {self.preview.typed_confirmation} exactly to confirm."

    def _show_typed(self, typed: str, submitted: bool = False) -> None:
        """Say so while the typed text is not the one asked for (not while it is a prefix of
        it: the user is still typing), and always after Enter."""
        expected = self.preview.typed_confirmation or ""
        wrong = self.query_one("#confirm-typed-wrong", Static)
        show = typed.strip() != expected and (
            submitted or not expected.startswith(typed.strip())
        )
        wrong.update(Text(self._wrong_text()))
        wrong.display = show

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#confirm-yes", Button).disabled = self._disabled(event.value)
        if self.typed:
            self._show_typed(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not self._disabled(event.value):
            self.dismiss(True)
        elif self.typed and self.can_execute:
            # Enter with the wrong text: say so rather than doing nothing.
            self._show_typed(event.value, submitted=True)
            self.notify(self._wrong_text(), severity="warning")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm-yes" and not event.button.disabled:
            self.dismiss(not self._disabled(self._typed_value()))
        else:
            self.dismiss(False)

    def _typed_value(self) -> str:
        if not self.typed:
            return ""
        return self.query_one("#confirm-typed", Input).value

    def action_cancel(self) -> None:
        self.dismiss(False)


class OutcomeScreen(ModalScreen[None]):
    """What the engine did: its report per block, then errors and notes."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close")]

    def __init__(self, outcome: Outcome) -> None:
        super().__init__()
        self.outcome = outcome

    def compose(self) -> ComposeResult:
        o = self.outcome
        head = "Refused" if o.refused else ("Done" if o.ok else "Finished with errors")
        with Vertical(id="outcome-box", classes="op-box"):
            yield Static(Text.assemble((head, "bold"), ": ", o.title), id="outcome-title")
            with VerticalScroll(id="outcome-blocks"):
                if o.refused:
                    yield Static(Text(f"nothing was changed: {o.refused}"),
                                 classes="op-block -error")
                for block in o.blocks:
                    yield Static(Text(block, no_wrap=True), classes="op-block")
                for line in o.errors:
                    yield Static(Text(f"! {line}"), classes="op-block -error")
                for line in o.notes:
                    yield Static(Text(f"! {line}"), classes="op-block")
            yield Static("esc / enter: close", classes="hint")
