"""The registry of views: name, key, what it shows, how to build its screen.

One :class:`ViewRegistry` feeds everything that lists views: the app's modes and number keys,
the command palette, ``swarmtui shot``'s choices and the ``--help`` texts (and a test checks
the README's key table against it). A new view is one :class:`ViewSpec`; its screen gets the
:class:`~swarmtui.runtime.Runtime` and inherits read-only handling from
:class:`~swarmtui.screens.base.SwarmScreen`.

May import: the screens, inside :func:`default_views` (so that ``--help`` and the CLI's
commands load no Textual). Never the
app or the CLI (both import this module; the CLI only when it prints help or takes a shot).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.screen import Screen

    from swarmtui.runtime import Runtime
    from swarmtui.screens.base import SwarmScreen


@dataclass(frozen=True, slots=True)
class ViewSpec:
    """One view of the dashboard."""

    name: str
    """The mode name (``shot NAME``, the palette's "Go to NAME")."""
    key: str
    """The key that shows it from everywhere."""
    description: str
    """One line for the palette and ``--help``."""
    factory: Callable[[Runtime], Screen[Any]]
    """Builds the view's screen (a :class:`~swarmtui.screens.base.SwarmScreen` subclass)."""
    needs_swarm: bool = True
    """Empty unless the engine is a swarm manager (the screen then says so)."""

    @classmethod
    def of(cls, screen: type[SwarmScreen], key: str, description: str) -> ViewSpec:
        """The spec of a SwarmScreen subclass: its SCREEN_NAME and NEEDS_SWARM."""
        return cls(screen.SCREEN_NAME, key, description, screen, screen.NEEDS_SWARM)


def key_order(key: str) -> tuple[bool, bool, str]:
    """Keyboard order: 1 … 9, then 0, then named keys (``f5``)."""
    return (len(key) > 1, key == "0", key)


class ViewRegistry:
    """Views by name, iterated in key order. Names and keys are each used once."""

    def __init__(self, specs: Iterable[ViewSpec] = ()) -> None:
        self._specs: dict[str, ViewSpec] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: ViewSpec) -> ViewSpec:
        if not spec.name or not spec.key:
            raise ValueError(f"a view needs a name and a key: {spec!r}")
        if spec.name in self._specs:
            raise ValueError(f"view name {spec.name!r} is registered twice")
        for other in self._specs.values():
            if other.key == spec.key:
                raise ValueError(f"key {spec.key!r} is taken by view {other.name!r}")
        self._specs[spec.name] = spec
        return spec

    def __iter__(self) -> Iterator[ViewSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: key_order(s.key)))

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def get(self, name: str) -> ViewSpec:
        """The view called ``name`` (KeyError naming the choices)."""
        try:
            return self._specs[name]
        except KeyError:
            choices = ", ".join(self.names)
            raise KeyError(f"unknown view {name!r} (choose from: {choices})") from None

    @property
    def names(self) -> list[str]:
        return [s.name for s in self]

    def copy(self) -> ViewRegistry:
        return ViewRegistry(self._specs.values())

    def help_text(self) -> str:
        """``1 grid, 2 services, …`` for ``--help``."""
        return ", ".join(f"{s.key} {s.name}" for s in self)


def default_views() -> ViewRegistry:
    """The built-in views."""
    from swarmtui.screens.disk import DiskScreen
    from swarmtui.screens.events import EventsScreen
    from swarmtui.screens.grid import GridScreen
    from swarmtui.screens.images import ImagesScreen
    from swarmtui.screens.logs import LogsScreen
    from swarmtui.screens.metrics import MetricsScreen
    from swarmtui.screens.nodes import NodesScreen
    from swarmtui.screens.secrets import ConfigsScreen, SecretsScreen
    from swarmtui.screens.services import ServicesScreen
    from swarmtui.screens.stacks import StacksScreen
    from swarmtui.screens.updates import UpdatesScreen

    return ViewRegistry([
        ViewSpec.of(GridScreen, "1", "Nodes and their tasks, live"),
        ViewSpec.of(ServicesScreen, "2", "Services with replica counts and update status"),
        ViewSpec.of(LogsScreen, "3", "Merged live logs"),
        ViewSpec.of(DiskScreen, "4", "Disk usage and prune per engine"),
        ViewSpec.of(UpdatesScreen, "5", "Rolling updates: slots, batches, why it stopped"),
        ViewSpec.of(NodesScreen, "6", "Nodes: status, availability, manager status, engine"),
        ViewSpec.of(StacksScreen, "7", "Stacks: services, health, networks, secrets, configs"),
        ViewSpec.of(SecretsScreen, "8", "Secrets: metadata and the services using each"),
        ViewSpec.of(ConfigsScreen, "0", "Configs: metadata, content and the services using each"),
        ViewSpec.of(EventsScreen, "9", "The engine's event feed"),
        ViewSpec.of(ImagesScreen, "f3", "Images: layers, services using each, side by side"),
        ViewSpec.of(MetricsScreen, "f2", "Engine metrics per node: containers, health, swarm"),
    ])
