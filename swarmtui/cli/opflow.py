"""One way to confirm and run an operation from the shell: preview, then --dry-run stops,
--read-only refuses, --yes runs, a terminal is asked, and anything else is refused in one
line before a single write."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO, TypeVar

from swarmtui.cli.common import CliError
from swarmtui.engine.client import EngineError
from swarmtui.ops.base import Operation, Outcome, Plan, Preview
from swarmtui.ops.executor import Executor

PayloadT = TypeVar("PayloadT")


def print_preview(preview: Preview, out: TextIO | None = None) -> None:
    """The preview on stdout (``out``: elsewhere, e.g. stderr when stdout carries JSON)."""
    out = out or sys.stdout
    out.write(preview.title + "\n")
    for block in preview.blocks:
        out.write(block if block.endswith("\n") else block + "\n")
        out.write("\n")
    for problem in preview.problems:
        print(f"swarmtui: {problem}", file=sys.stderr)
    if preview.summary:
        out.write(preview.summary + "\n")
    out.flush()


def print_outcome(outcome: Outcome) -> None:
    for block in outcome.blocks:
        sys.stdout.write(block if block.endswith("\n") else block + "\n")
    sys.stdout.flush()
    if outcome.refused:
        print(f"swarmtui: refused, nothing was changed: {outcome.refused}", file=sys.stderr)
    for line in (*outcome.notes, *outcome.errors):
        print(f"swarmtui: {line}", file=sys.stderr)


def confirmed(preview: Preview, ask: Callable[[str], str]) -> bool:
    try:
        if preview.typed_confirmation is not None:
            warning = f"{preview.warning} " if preview.warning else ""
            answer = ask(f"{warning}Type {preview.typed_confirmation!r} to confirm: ")
            return answer.strip() == preview.typed_confirmation
        answer = ask("Proceed? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def refuse_early(executor: Executor, *, dry_run: bool, yes: bool, isatty: bool,
                 what: str) -> None:
    """The refusals that need no engine: read-only, and no way to confirm."""
    if dry_run:
        return
    if not executor.can_execute:
        raise CliError(f"refusing to {what}: --read-only is set (a --dry-run preview is allowed)")
    if not yes and not isatty:
        raise CliError(
            f"refusing to {what} without confirmation: stdin is not a terminal "
            "(use --yes to go ahead, --dry-run to preview)"
        )


async def run_operation(
    executor: Executor,
    operation: Operation[PayloadT],
    *,
    dry_run: bool,
    yes: bool,
    ask: Callable[[str], str] = input,
    out: TextIO | None = None,
) -> tuple[Plan[PayloadT], Outcome | None]:
    """Plan, print the preview, confirm and execute. Returns the plan and the outcome (None
    for a dry run or when there is nothing to do); raises CliError (one line) for every
    refusal."""
    try:
        plan = await executor.plan(operation)
    except EngineError as exc:
        raise CliError(str(exc)) from exc
    print_preview(plan.preview, out)
    if dry_run or plan.preview.empty:
        return plan, None
    if not yes and not confirmed(plan.preview, ask):
        raise CliError("cancelled, nothing was changed")
    outcome = await executor.execute(plan)
    print_outcome(outcome)
    if outcome.refused:
        raise CliError(f"refused, nothing was changed: {outcome.refused}")
    return plan, outcome
