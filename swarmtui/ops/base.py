"""What an operation is: plan (read, preview), execute (with a permit), outcome."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from swarmtui.engine.client import WritePermit

PayloadT = TypeVar("PayloadT")


@dataclass(frozen=True, slots=True)
class Preview:
    """What a confirmation shows, the same on screen and on the shell.

    ``blocks``: preformatted text, one block per engine or object (shown without wrapping).
    ``problems``: what could not be previewed and is skipped. ``changes``: how many objects
    would change (0: nothing to do, so nothing to confirm). ``typed_confirmation``: the text
    the user must type instead of answering yes (for what cannot be undone), with ``warning``
    saying why."""

    title: str
    blocks: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    summary: str = ""
    changes: int = 0
    typed_confirmation: str | None = None
    warning: str = ""

    @property
    def empty(self) -> bool:
        return self.changes == 0


@dataclass(frozen=True, slots=True)
class Plan(Generic[PayloadT]):
    """A preview and what executing it needs. ``based_on`` names the object versions the
    plan was read at (``(object id, Version.Index)``): updates send them, so the engine
    refuses a plan whose object changed meanwhile."""

    operation: Operation[PayloadT]
    preview: Preview
    payload: PayloadT
    based_on: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened. ``refused``: why nothing was sent (read-only, the plan went stale …).
    ``stale``: the object changed since the preview: read again, show, ask again.
    ``blocks``: what the engine reported, preformatted; ``errors``: one line each."""

    title: str
    blocks: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    refused: str | None = None
    stale: bool = False
    detail: Any = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.refused is None and not self.errors


class Operation(ABC, Generic[PayloadT]):
    """One change to one or more engines. Subclasses read in ``plan`` (never write) and
    write only in ``execute``, only through the permit they are given."""

    title: str = ""

    @abstractmethod
    async def plan(self) -> Plan[PayloadT]:
        """Read the engine(s) and say what would change. Raises EngineError (one line)."""

    @abstractmethod
    async def execute(self, plan: Plan[PayloadT], permit: WritePermit) -> Outcome:
        """Carry out a confirmed plan. Engine errors go into the outcome, not raised."""
