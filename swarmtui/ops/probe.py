"""A node probe as an operation: it creates a service on the user's swarm that mounts the
engine socket of every node (root there), so it is previewed and confirmed like any other
change, and never runs in read-only mode (the executor gives no permit).

plan() reads the swarm's nodes and says which the probe reaches and why the others stay
"not covered" (drained, paused, down, engines older than API 1.41, or already covered by an
engine configured directly); execute() removes expired leftovers of killed runs, then runs
the :class:`~swarmtui.engine.probe.NodeProbe` (which removes its service whatever happens) and
puts the :class:`~swarmtui.engine.probe.ProbeRun` in ``Outcome.detail``.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from swarmtui.engine.client import EngineClient, EngineError, WritePermit
from swarmtui.engine.probe import (
    NodeProbe,
    ProbeConfig,
    ProbeRun,
    expired_probe_services,
    new_probe_name,
    remove_probe_services,
)
from swarmtui.model.probe import (
    ProbeNode,
    ProbeRequest,
    not_probeable,
    probe_node_from_json,
)
from swarmtui.ops.base import Operation, Outcome, Plan, Preview


@dataclass(frozen=True, slots=True)
class ProbePlan:
    """The service's name, the nodes it will ask, the nodes it will not (with the reason), and
    the nodes left out because an engine configured directly covers them."""

    name: str
    targets: tuple[ProbeNode, ...]
    not_covered: tuple[tuple[ProbeNode, str], ...]
    skipped: tuple[ProbeNode, ...]
    nodes: tuple[ProbeNode, ...]
    left_out: tuple[ProbeNode, ...] = ()  # not asked for (``prune --node``): kept off, unlisted


# The confirmation dialog does not wrap blocks (they hold tables): at 80 columns it shows 68
# characters of a line, so a sentence is wrapped to that.
PREVIEW_WIDTH = 68


def wrap_sentence(text: str) -> str:
    return "\n".join(textwrap.wrap(text, PREVIEW_WIDTH, break_on_hyphens=False,
                                   break_long_words=False))


def probe_preview(config: ProbeConfig, purpose: str, p: ProbePlan,
                  mounts_socket: bool = True, note: str = "") -> Preview:
    n = len(p.targets)
    if not n:
        # Nothing would be created: say why each node is out, not what a probe would do.
        lines = [f"  direct  {t.hostname} (an engine is configured for it)" for t in p.skipped]
        lines += [f"  not covered  {t.hostname}: {why}" for t, why in p.not_covered]
        return Preview(title=f"No node to probe for {purpose}",
                       blocks=("\n".join(lines) + "\n",) if lines else (),
                       summary="Nothing is created.", changes=0)
    lines = [wrap_sentence(
        f"Creates a global service {p.name} running {config.image} on {n} node(s) "
        + (f"with {config.socket} mounted (root on each node)" if mounts_socket
           else "without the engine socket")
        + (", on the host network" if config.host_network else "")
        + f"; it is removed when the answers are in (at most {config.timeout_s:g} s)."),
    ]
    lines += [f"  probe   {t.hostname}" for t in p.targets]
    lines += [f"  direct  {t.hostname} (an engine is configured for it)" for t in p.skipped]
    lines += [f"  not covered  {t.hostname}: {why}" for t, why in p.not_covered]
    if note:
        lines += ["", wrap_sentence(note)]
    return Preview(
        title=f"Probe {n} node(s) for {purpose}",
        blocks=("\n".join(lines) + "\n",),
        summary=f"Total: 1 service created and removed again ({p.name}).",
        changes=1 if n else 0,
    )


class ProbeOperation(Operation[ProbePlan]):
    """Ask every node the probe reaches (all swarm nodes but ``skip_node_ids``; with
    ``only_node_ids``, only those)."""

    def __init__(self, client: EngineClient, config: ProbeConfig,
                 requests: Sequence[ProbeRequest], *, purpose: str,
                 skip_node_ids: Sequence[str] = (), note: str = "",
                 only_node_ids: Sequence[str] | None = None) -> None:
        self.client = client
        self.config = config
        self.requests = tuple(requests)
        self.purpose = purpose
        self.skip_node_ids = frozenset(skip_node_ids)
        self.only_node_ids = None if only_node_ids is None else frozenset(only_node_ids)
        self.note = note  # a line the preview adds (what confirming also agrees to)
        self.title = f"Probe nodes for {purpose}"

    async def plan(self) -> Plan[ProbePlan]:
        nodes = tuple(probe_node_from_json(n) for n in await self.client.nodes())
        if not nodes:
            raise EngineError("no swarm nodes listed: node probes need a swarm manager")
        targets, not_covered, skipped, left_out = [], [], [], []
        for node in nodes:
            why = not_probeable(node)
            if self.only_node_ids is not None and node.id not in self.only_node_ids:
                left_out.append(node)
            elif node.id in self.skip_node_ids:
                skipped.append(node)
            elif why is not None:
                not_covered.append((node, why))
            else:
                targets.append(node)
        p = ProbePlan(new_probe_name(), tuple(targets), tuple(not_covered), tuple(skipped),
                      nodes, tuple(left_out))
        mounts = any(r.needs_engine for r in self.requests)
        return Plan(self, probe_preview(self.config, self.purpose, p, mounts, self.note), p)

    async def execute(self, plan: Plan[ProbePlan], permit: WritePermit) -> Outcome:
        p = plan.payload
        probe = NodeProbe(self.client, self.config, self.requests, name=p.name)
        notes: list[str] = []
        try:
            leftovers = await probe.cleanup_leftovers(permit)
            if leftovers:
                notes.append(f"removed leftover probe service(s) of an earlier run: "
                             f"{', '.join(leftovers)}")
            run = await probe.run(p.targets, permit,
                                  skip_node_ids=[s.id for s in (*p.skipped, *p.left_out)])
        except EngineError as exc:
            return Outcome(plan.preview.title, errors=(f"probe {p.name}: {exc}",),
                           notes=tuple(notes))
        errors = [run.remove_error] if run.remove_error else []
        return Outcome(plan.preview.title, errors=tuple(errors), notes=tuple(notes),
                       detail=ProbeResult(p, run))


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What a caller needs after the run: the plan (who was not covered) and the answers."""

    plan: ProbePlan
    run: ProbeRun

    def reasons(self) -> Mapping[str, str]:
        """node ID -> why it is not covered (planned out, or the node's probe error)."""
        out = {n.id: why for n, why in self.plan.not_covered}
        return out


class LeftoverProbeCleanup(Operation[tuple[tuple[str, str], ...]]):
    """Remove the expired probe services a killed run of swarmtui left behind.

    The app runs it when it connects to a manager *without* a confirmation: these services
    are swarmtui's own (label ``swarmtui.probe``) and their time is up (the expiry label
    each probe writes, past its own timeout plus a margin, so a probe of another swarmtui
    still running is never touched); a one-line notice says what was removed. It still goes
    through the executor, so ``--read-only`` removes nothing (the app then only says that
    leftovers exist)."""

    title = "Remove leftover probe services"

    def __init__(self, client: EngineClient, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.clock = clock

    async def plan(self) -> Plan[tuple[tuple[str, str], ...]]:
        leftovers = tuple(await expired_probe_services(self.client, self.clock()))
        names = ", ".join(name for _, name in leftovers)
        preview = Preview(
            title=f"Remove {len(leftovers)} leftover probe service(s) of an earlier run",
            blocks=(names + "\n",) if leftovers else (),
            summary=f"Total: {len(leftovers)} service(s) removed.",
            changes=len(leftovers),
        )
        return Plan(self, preview, leftovers)

    async def execute(self, plan: Plan[tuple[tuple[str, str], ...]],
                      permit: WritePermit) -> Outcome:
        removed = await remove_probe_services(self.client, plan.payload, permit)
        return Outcome(plan.preview.title, notes=(
            f"removed {len(removed)} leftover probe service(s) of an earlier run: "
            f"{', '.join(removed)}",) if removed else ())
