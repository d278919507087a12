"""The prune dialogs: choose what to prune, confirm the preview, see what the engine did.

:class:`PruneChooser` returns ``(kind, PruneOptions)`` or None. :class:`ConfirmPruneScreen`
lists exactly what each engine would remove (the preview text the CLI prints too), the
protected images and non-local volumes, and returns True only when the user presses Prune
(for volumes, after typing the engine names). :class:`PruneResultScreen` shows what the
engine reported.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from swarmtui.engine.disk import PlannedPrune
from swarmtui.model.disk.view import (
    PruneOptions,
    PruneOutcome,
    estimate_text,
    needs_typed_confirmation,
    outcome_notes,
    prune_heading,
    render_diff,
    render_outcome,
    render_plan_text,
    typed_confirmation_text,
)
from swarmtui.model.dockerfmt import human_size

# (option id, label, kind, options)
CHOICES: tuple[tuple[str, str, str, PruneOptions], ...] = (
    ("containers", "Containers -- stopped containers", "containers", PruneOptions()),
    ("images", "Images -- dangling", "images", PruneOptions()),
    ("images-all", "Images -- all unused (-a)", "images", PruneOptions(all=True)),
    ("volumes", "Volumes -- unused (anonymous only on API >= 1.42)", "volumes", PruneOptions()),
    ("volumes-all", "Volumes -- unused, named too (--all)", "volumes", PruneOptions(all=True)),
    ("networks", "Networks -- unused", "networks", PruneOptions()),
    ("build-cache", "Build cache -- unused", "build_cache", PruneOptions()),
    ("build-cache-all", "Build cache -- all (--all)", "build_cache", PruneOptions(all=True)),
    ("system", "System -- containers, networks, dangling images, build cache", "system",
     PruneOptions()),
    ("system-all", "System --all -- and every unused image, all build cache", "system",
     PruneOptions(all=True)),
    ("system-volumes", "System --volumes -- and unused volumes", "system",
     PruneOptions(volumes=True)),
    ("system-all-volumes", "System --all --volumes", "system",
     PruneOptions(all=True, volumes=True)),
)


class PruneChooser(ModalScreen[tuple[str, PruneOptions] | None]):
    """Pick a prune kind; Escape cancels."""

    BINDINGS = [Binding("escape,q", "cancel", "Cancel")]

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    def compose(self) -> ComposeResult:
        with Vertical(id="prune-chooser-box", classes="prune-box"):
            yield Static(f"[b]Prune on {self.where}[/b]: what?", id="prune-chooser-title")
            yield OptionList(*(Option(label, id=cid) for cid, label, _, _ in CHOICES),
                             id="prune-choices")
            yield Static("enter: preview (nothing is removed yet) · esc: cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        for cid, _, kind, options in CHOICES:
            if cid == event.option.id:
                self.dismiss((kind, options))
                return

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmPruneScreen(ModalScreen[bool]):
    """The preview of every engine, and Prune / Cancel. Cancel (or Escape) returns False."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        planned: Sequence[PlannedPrune],
        errors: Sequence[tuple[str, str]] = (),
        *,
        read_only: bool = False,
    ) -> None:
        super().__init__()
        self.planned = list(planned)
        self.errors = list(errors)
        self.read_only = read_only
        first = self.planned[0]
        self.typed = needs_typed_confirmation(first.kind, first.options)
        self.expected = typed_confirmation_text([p.engine for p in self.planned])
        self.total_items = sum(p.item_count for p in self.planned)

    def compose(self) -> ComposeResult:
        first = self.planned[0]
        where = ", ".join(p.engine for p in self.planned)
        with Vertical(id="prune-confirm-box", classes="prune-box"):
            yield Static(f"[b]{prune_heading(first.kind, first.options)}[/b] on [b]{where}[/b]",
                         id="prune-title")
            with VerticalScroll(id="prune-preview"):
                for p in self.planned:
                    title = f"{p.engine} ({p.url}, API {p.api_version})"
                    text = render_plan_text(p.plan, title=title, per_item_steps=p.per_item_steps)
                    text += "".join(f"  ! {n}\n" for n in p.notes)
                    yield Static(Text(text, no_wrap=True), classes="prune-plan")
                for name, error in self.errors:
                    yield Static(Text(f"{name}: cannot preview, skipped: {error}"),
                                 classes="prune-error")
            yield Static(self._total_text(), id="prune-total")
            if self.typed and self.total_items:
                yield Static(
                    f"Volume data cannot be recovered. Type [b]{self.expected}[/b] to confirm:",
                    id="prune-type-hint",
                )
                yield Input(placeholder=self.expected, id="prune-typed")
                yield Static("", id="prune-typed-wrong", classes="prune-error")
            with Horizontal(id="prune-buttons"):
                yield Button("Prune", id="prune-yes", variant="error",
                             disabled=self._prune_disabled(""))
                yield Button("Cancel", id="prune-no", variant="primary")

    def _total_text(self) -> str:
        if self.read_only:
            return "Read-only mode: pruning is disabled."
        if not self.total_items:
            return "Nothing to remove."
        est = sum(p.plan.estimated_bytes for p in self.planned)
        per = (
            estimate_text(self.planned[0].plan)
            if len(self.planned) == 1
            else human_size(est)
        )
        return f"Total: {self.total_items} object(s), freeing about {per}."

    def _prune_disabled(self, typed: str) -> bool:
        if self.read_only or not self.total_items:
            return True
        return self.typed and typed.strip() != self.expected

    def on_mount(self) -> None:
        if self.typed and self.total_items:
            self.query_one("#prune-typed-wrong").display = False
            self.query_one("#prune-typed", Input).focus()
        else:
            self.query_one("#prune-no", Button).focus()

    def _wrong_name_text(self) -> str:
        return f"Type {self.expected} exactly to confirm."

    def _show_typed(self, typed: str, submitted: bool = False) -> None:
        """Say so while the typed name is not the one asked for (not while it is a prefix of
        it: the user is still typing), and always after Enter."""
        wrong = self.query_one("#prune-typed-wrong", Static)
        right = typed.strip() == self.expected
        show = not right and (submitted or not self.expected.startswith(typed.strip()))
        wrong.update(Text(self._wrong_name_text()))
        wrong.display = show

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#prune-yes", Button).disabled = self._prune_disabled(event.value)
        if self.typed and self.total_items:
            self._show_typed(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not self._prune_disabled(event.value):
            self.dismiss(True)
        elif self.typed and self.total_items and not self.read_only:
            self._show_typed(event.value, submitted=True)
            self.notify(self._wrong_name_text(), severity="warning")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "prune-yes" and not event.button.disabled:
            self.dismiss(not self._prune_disabled(self._typed_value()))
        else:
            self.dismiss(False)

    def _typed_value(self) -> str:
        if not (self.typed and self.total_items):
            return ""
        return self.query_one("#prune-typed", Input).value

    def action_cancel(self) -> None:
        self.dismiss(False)


class PruneResultScreen(ModalScreen[None]):
    """What each engine reported, as the docker CLI prints it, plus errors and notes."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close")]

    def __init__(self, outcomes: Sequence[PruneOutcome]) -> None:
        super().__init__()
        self.outcomes = list(outcomes)

    def compose(self) -> ComposeResult:
        ok = all(o.ok for o in self.outcomes)
        title = "Prune done" if ok else "Prune finished with errors"
        with Vertical(id="prune-result-box", classes="prune-box"):
            yield Static(f"[b]{title}[/b]: {self.outcomes[0].title}", id="prune-result-title")
            with VerticalScroll(id="prune-results"):
                for o in self.outcomes:
                    text = f"{o.engine}\n" + (render_outcome(o) or "(nothing ran)\n")
                    for note in outcome_notes(o):
                        text += f"! {note}\n"
                    diff = render_diff(o.diff)
                    if diff:
                        text += diff + "\n"
                    yield Static(Text(text, no_wrap=True),
                                 classes="prune-result" + ("" if o.ok else " -error"))
            yield Static("esc / enter: close", classes="hint")
