"""Redaction for the wall display (``--kiosk``): values that look secret never reach a screen.

A name (a label's key, an environment variable, a command-line flag, an event attribute) is
secret when one of the :class:`Redactor`'s patterns finds a match in it; its value is then
shown as :data:`MASK`. Free text (log lines, task messages, constraints) is scanned for
``NAME=value``, ``NAME: value`` and ``--name value`` with a secret name. Pure: strings and
snapshots in, new ones out.

May import: the standard library and :mod:`swarmtui.model`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from swarmtui.model.state import ClusterState
from swarmtui.model.types import EngineEvent, Labels, Node, Secret, Service, Task

DEFAULT_PATTERNS: tuple[str, ...] = (r"(?i)(pass|secret|token|key|auth|credential)",)
"""Names that look secret: ``DB_PASSWORD``, ``api_key``, ``AUTH_HEADER``, ``--token``."""

MASK = "••••••"

T = TypeVar("T")

# NAME=value, then NAME: value (NAME may be a flag: --password=x; a JSON key: "token": "x").
# The value runs to the next blank, separator or closing quote; a quoted value is masked whole.
_NAME = r"""(?P<name>(?<![\w.-])-{0,2}[A-Za-z_][\w.\-]*)(?P<quote>["']?)"""
_VALUE = r"""(?P<value>"[^"]*"|'[^']*'|[^\s,;"'}\]]+)"""
_ASSIGNMENTS = (re.compile(_NAME + r"(?P<sep>=)" + _VALUE),
                re.compile(_NAME + r"(?P<sep>:[ \t]*)" + _VALUE))
# --name value (a flag followed by its argument).
_FLAG_ARG = re.compile(r"(?P<name>(?<![\w-])--?[A-Za-z][\w\-]*)(?P<sep>[ \t]+)(?P<value>[^\s-]\S*)")


class PatternError(ValueError):
    """A redaction pattern that is not a regular expression (one line)."""


@dataclass(frozen=True, slots=True)
class Redactor:
    """Masks the values of secret-looking names."""

    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def compile(cls, texts: Iterable[str] = DEFAULT_PATTERNS) -> Redactor:
        """The redactor for ``texts`` (regular expressions; raises PatternError)."""
        compiled = []
        for text in texts:
            try:
                compiled.append(re.compile(text))
            except re.error as exc:
                raise PatternError(f"redact pattern {text!r} is not a regular expression: "
                                   f"{exc}") from None
        return cls(tuple(compiled))

    def is_secret(self, name: str) -> bool:
        return any(p.search(name) for p in self.patterns)

    def value(self, name: str, value: str) -> str:
        """``value`` as shown under ``name``: masked when the name is secret (an empty value
        stays empty: a bare label says nothing)."""
        if value and self.is_secret(name):
            return MASK
        return self.text(value)

    def pairs(self, pairs: Labels) -> Labels:
        """Labels, environment, event attributes: each secret name's value masked."""
        out = tuple((k, self.value(k, v)) for k, v in pairs)
        return pairs if out == pairs else out

    def mapping(self, values: Mapping[str, str]) -> dict[str, str]:
        return {k: self.value(k, v) for k, v in values.items()}

    def text(self, text: str) -> str:
        """A free text (a log line, a message, a command line) with every ``NAME=value``,
        ``NAME: value`` and ``--name value`` of a secret name masked."""
        if not text or not self.patterns:
            return text

        def assignment(m: re.Match[str]) -> str:
            if not self.is_secret(m["name"].lstrip("-")):
                return m[0]
            value = m["value"]
            masked = value[0] + MASK + value[0] if value[:1] in "\"'" else MASK
            return f"{m['name']}{m['quote']}{m['sep']}{masked}"

        def flag(m: re.Match[str]) -> str:
            if not self.is_secret(m["name"].lstrip("-")):
                return m[0]
            return f"{m['name']}{m['sep']}{MASK}"

        for pattern in _ASSIGNMENTS:
            text = pattern.sub(assignment, text)
        return _FLAG_ARG.sub(flag, text)

    def args(self, args: Iterable[str]) -> tuple[str, ...]:
        """A command's arguments: ``--token X`` masks X, ``--token=X`` and ``KEY=X`` mask X."""
        out: list[str] = []
        mask_next = False
        for arg in args:
            if mask_next and not arg.startswith("-"):
                out.append(MASK)
                mask_next = False
                continue
            mask_next = arg.startswith("-") and "=" not in arg and self.is_secret(arg.lstrip("-"))
            out.append(self.text(arg))
        return tuple(out)

    # -- snapshots ------------------------------------------------------------------------
    def node(self, node: Node) -> Node:
        return replace(node, labels=self.pairs(node.labels),
                       engine_labels=self.pairs(node.engine_labels),
                       message=self.text(node.message))

    def service(self, service: Service) -> Service:
        return replace(service, labels=self.pairs(service.labels),
                       constraints=tuple(self.text(c) for c in service.constraints))

    def task(self, task: Task) -> Task:
        return replace(task, message=self.text(task.message), err=self.text(task.err))

    def event(self, event: EngineEvent) -> EngineEvent:
        return replace(event, attributes=self.pairs(event.attributes))

    def secret(self, secret: Secret) -> Secret:
        return replace(secret, labels=self.pairs(secret.labels))

    def state(self, state: ClusterState,
              previous: tuple[ClusterState, ClusterState] | None = None) -> ClusterState:
        """The snapshot as a wall may show it: every label, event attribute, message and
        constraint redacted. ``previous`` (the last snapshot and its redacted form) lets
        unchanged maps and objects keep their identity, which the screens' diffs rely on."""
        before, shown = previous if previous is not None else (None, None)

        def each(name: str, redact: Callable[[T], T]) -> Mapping[str, T]:
            new: Mapping[str, T] = getattr(state, name)
            if before is None or shown is None:
                return {k: redact(v) for k, v in new.items()}
            old: Mapping[str, T] = getattr(before, name)
            if new is old:
                return getattr(shown, name)  # type: ignore[no-any-return]
            old_shown: Mapping[str, T] = getattr(shown, name)
            return {k: old_shown[k] if old.get(k) is v and k in old_shown else redact(v)
                    for k, v in new.items()}

        events = (shown.events if before is not None and shown is not None
                  and before.events is state.events
                  else tuple(self.event(e) for e in state.events))
        return replace(
            state,
            nodes=each("nodes", self.node),
            services=each("services", self.service),
            tasks=each("tasks", self.task),
            events=events,
            secrets=each("secrets", self.secret),
            configs=each("configs", self.secret),
        )
