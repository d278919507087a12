"""Screens 7 and 8: secrets and configs, as ``docker secret ls`` / ``config ls`` list them,
with the services that use each; create, remove and rotate as operations.

Enter shows one's metadata and its users (target, uid/gid, mode); ``v`` shows a config's
content, sanitised like log lines. A secret's data is never requested: the value typed for a
new one goes from a masked prompt into the operation and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from swarmtui.engine.client import EngineError
from swarmtui.model.jsonval import as_map, as_str
from swarmtui.model.secrets import (
    CONFIG,
    SECRET,
    Kind,
    content_text,
    detail_text,
    name_problem,
    user_names,
)
from swarmtui.model.state import ClusterState
from swarmtui.model.tables import CONFIG_COLUMNS, SECRET_COLUMNS, config_rows, secret_rows
from swarmtui.model.types import Secret
from swarmtui.ops.base import Operation, Outcome
from swarmtui.ops.secret import (
    CreateSecret,
    RemoveSecret,
    RotateSecret,
    RotationResult,
    SecretData,
)
from swarmtui.ops.service import ServiceClient
from swarmtui.screens.base import operation_binding
from swarmtui.screens.table import TableScreen, TableSpec, columns


class TextScreen(ModalScreen[None]):
    """A read-only text (details, a config's content), shown as data, never as markup."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close")]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body_text = body

    def compose(self) -> ComposeResult:
        with Vertical(id="text-box", classes="op-box"):
            yield Static(Text(self.title_text, style="bold"), id="text-title")
            with VerticalScroll(id="text-body"):
                yield Static(Text(self.body_text, no_wrap=True), classes="op-block")
            yield Static("esc / enter: close", classes="hint")


def next_name(name: str) -> str:
    """A name for the rotated secret: ``db_pass`` -> ``db_pass_v2``, ``..._v2`` -> ``_v3``."""
    match = re.fullmatch(r"(.*?)(?:_v(\d+))?", name)
    assert match is not None
    base, number = match.group(1), match.group(2)
    candidate = f"{base}_v{int(number) + 1 if number else 2}"
    return candidate if len(candidate) <= 64 else name[:60] + "_v2"


def _finder(kind: Kind) -> Callable[[ClusterState, str], Secret | None]:
    return lambda state, key: kind.items(state).get(key)


def _detail(kind: Kind) -> Callable[[ClusterState, str], str]:
    def detail(state: ClusterState, key: str) -> str:
        item = kind.items(state).get(key)
        return "" if item is None else detail_text(state, kind, item)
    return detail


def _spec(kind: Kind, cols: tuple[str, ...],
          rows: Callable[[ClusterState], list[tuple[str, tuple[str, ...]]]]
          ) -> TableSpec[Secret]:
    return TableSpec(name=kind.path, noun=kind.noun, columns=columns(*cols), rows=rows,
                     find=_finder(kind), detail=_detail(kind),
                     # A service's update changes who uses what: its events count too.
                     event_types=frozenset({kind.noun, "service"}))


SECRETS = _spec(SECRET, SECRET_COLUMNS, secret_rows)
CONFIGS = _spec(CONFIG, CONFIG_COLUMNS, config_rows)


class SecretsLikeScreen(TableScreen[Secret]):
    """What the secrets and configs screens share; ``KIND`` says which."""

    KIND: ClassVar[Kind] = SECRET

    BINDINGS = [
        Binding("enter", "details", "Details"),
        # Keys that open a prompt have priority: the app opens it before it routes the next key.
        replace(operation_binding("c", "create", "Create…"), priority=True),
        replace(operation_binding("r", "rotate", "Rotate…"), priority=True),
        operation_binding("D", "remove", "Remove"),
    ]

    def body(self) -> ComposeResult:
        yield from super().body()
        yield Static("", id=f"{self.spec.name}-busy", classes="hint")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(f"#{self.spec.name}-busy").display = False

    def client(self) -> ServiceClient:
        return self.runtime.live.client

    def operation_busy(self, text: str | None) -> None:
        busy = self.query_one(f"#{self.spec.name}-busy", Static)
        busy.update(Text(text or ""))
        busy.display = bool(text)

    def on_data_table_row_selected(self, event: Any) -> None:
        event.stop()
        self.action_details()

    def action_details(self) -> None:
        """Enter: metadata and the services using it (target, uid/gid, mode)."""
        item = self.selected()
        if item is not None and self.spec.detail is not None:
            self.app.push_screen(TextScreen(f"{self.KIND.noun} {item.name}",
                                            self.spec.detail(self.state, item.id)))

    # -- the prompts: name, then value (masked for a secret), or a file ------------------
    def _ask_data(self, name: str, run: Callable[[SecretData], Operation[Any]], verb: str
                  ) -> bool:
        """Turn the open prompt into the value question for ``name`` (empty: a file path).
        Returns False: the prompt stays open for the next answer."""
        kind = self.KIND

        def with_value(text: str) -> bool:
            if not text:
                self.prompt.open("", hint=f"File with the data of {name}", verb=verb,
                                 accept=from_file)
                return False
            return start(SecretData.typed(text))

        def from_file(path: str) -> bool:
            try:
                data = SecretData.from_file(path)
            except ValueError as exc:
                self.notify(str(exc), severity="error")
                return False
            return start(data)

        def start(data: SecretData) -> bool:
            try:
                operation = run(data)
            except ValueError as exc:
                self.notify(str(exc), severity="error")
                return False
            self.run_operation(operation, verb=verb)
            return True

        hidden = " (hidden)" if kind.secret else ""
        self.prompt.open("", hint=f"Value of {name}{hidden}; empty: read it from a file",
                         verb="Next", accept=with_value, password=kind.secret)
        return False

    def action_create(self) -> None:
        """`c`: a name, then the value typed (masked) or a file."""
        kind, client = self.KIND, self.client()

        def with_name(text: str) -> bool:
            name = text.strip()
            problem = name_problem(name, kind)
            if problem is not None:
                self.notify(problem, severity="error")
                return False
            return self._ask_data(
                name, lambda data: CreateSecret(client, name, data, kind), "Create")

        self.prompt.open("", hint=f"Name of the new {kind.noun}", verb="Next",
                         accept=with_name)

    def action_rotate(self) -> None:
        """`r`: the new name and the services to move (all users by default), then the new
        value."""
        item = self.selected()
        if item is None:
            return
        kind, client = self.KIND, self.client()
        users = user_names(self.state, kind, item.id)
        if not users:
            self.notify(f"{kind.noun} {item.name} is used by no service: nothing to rotate.",
                        severity="warning")
            return

        def with_name(text: str) -> bool:
            words = text.split()
            name = words[0] if words else ""
            problem = name_problem(name, kind)
            if problem is not None:
                self.notify(problem, severity="error")
                return False
            services = tuple(words[1:]) or None
            unknown = [s for s in services or () if s not in users]
            if unknown:
                self.notify(f"{', '.join(unknown)}: not using {item.name} (users: "
                            f"{', '.join(users)})", severity="error")
                return False

            def make(data: SecretData) -> Operation[Any]:
                op = RotateSecret(client, item.id, name, data, services, kind)
                op.progress = self.operation_busy
                return op

            return self._ask_data(name, make, "Rotate")

        self.prompt.open(f"{next_name(item.name)} {' '.join(users)}",
                         hint=f"Rotate {item.name}: new name, then the services to move",
                         verb="Next", accept=with_name)

    def action_remove(self) -> None:
        """`D`: remove it (refused while a service uses it)."""
        item = self.selected()
        if item is not None:
            self.run_operation(RemoveSecret(self.client(), item.id, self.KIND), verb="Remove")

    def after_outcome(self, outcome: Outcome) -> tuple[Operation[Any], str] | None:
        """After a rotation that left the old one unused: offer its removal."""
        result = outcome.detail
        if isinstance(result, RotationResult) and result.old_unused:
            return RemoveSecret(self.client(), result.old_id, self.KIND), "Remove"
        return None


class SecretsScreen(SecretsLikeScreen):
    SPEC = SECRETS
    KIND = SECRET


class ConfigsScreen(SecretsLikeScreen):
    SPEC = CONFIGS
    KIND = CONFIG

    BINDINGS = [Binding("v", "content", "Content")]

    def action_content(self) -> None:
        """`v`: the config's content (``GET /configs/{id}``), sanitised like log lines."""
        item = self.selected()
        if item is not None:
            self._show_content(item)

    @work(exclusive=True, group="config-content")
    async def _show_content(self, item: Secret) -> None:
        try:
            raw = await self.client().request("GET", f"configs/{item.id}")
        except EngineError as exc:
            self.notify(f"{item.name}: {exc}", severity="error")
            return
        data = as_str(as_map(as_map(raw).get("Spec")).get("Data"))
        await self.app.push_screen_wait(TextScreen(f"config {item.name}", content_text(data)))
