"""The prune chooser: what to prune. :class:`PruneChooser` returns ``(kind, PruneOptions)``
or None; the preview, confirmation and result are every operation's
(:mod:`swarmtui.screens.operation`)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from swarmtui.model.disk.view import (
    PruneOptions,
)

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
        with Vertical(id="prune-chooser-box", classes="op-box"):
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
