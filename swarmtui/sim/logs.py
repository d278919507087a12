"""Service/task logs of the simulated swarm, framed exactly like dockerd (brief §2).

A task has log lines from the moment it became running until it stopped (or now); the text
comes from :mod:`swarmtui.sim.loggen`, so any window is computed without replaying history.
Tasks on a down node cannot be read: a non-follow request ends with a type-3 error frame
``Error grabbing logs: … node <id> is not available``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from swarmtui.sim import probe as simprobe
from swarmtui.sim.loggen import LineContext, index_range, line_time, render
from swarmtui.sim.objects import SimTask
from swarmtui.sim.util import rfc3339_fixed

if TYPE_CHECKING:
    from swarmtui.sim.core import SimCore

INCOMPLETE = (
    "Error grabbing logs: rpc error: code = Unknown desc = warning: incomplete log stream. "
    "some logs could not be retrieved for the following reasons: "
)


@dataclass(frozen=True, slots=True)
class LogOptions:
    stdout: bool = True
    stderr: bool = True
    since_ns: int | None = None
    until_ns: int | None = None
    tail: int | None = None  # per task; None = all
    timestamps: bool = False
    details: bool = False


@dataclass(frozen=True, slots=True)
class LogLine:
    ts: int
    stream: int
    text: str
    node_id: str
    service_id: str
    task_id: str


@dataclass(slots=True)
class LogResult:
    lines: list[LogLine] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def frames(self, opts: LogOptions) -> bytes:
        out = b"".join(frame(line, opts) for line in self.lines)
        if self.errors:
            out += error_frame(self.errors)
        return out


def frame(line: LogLine, opts: LogOptions) -> bytes:
    """One stdcopy frame: ``[stream,0,0,0,len]`` + ``[ts ][details ]message\\n``."""
    parts = []
    if opts.timestamps:
        parts.append(rfc3339_fixed(line.ts))
    if opts.details:
        parts.append(
            f"com.docker.swarm.node.id={line.node_id},com.docker.swarm.service.id="
            f"{line.service_id},com.docker.swarm.task.id={line.task_id}"
        )
    parts.append(line.text)
    payload = (" ".join(parts) + "\n").encode()
    return bytes((line.stream, 0, 0, 0)) + len(payload).to_bytes(4, "big") + payload


def error_frame(reasons: list[str]) -> bytes:
    payload = (INCOMPLETE + ", ".join(reasons) + "\n").encode()
    return b"\x03\x00\x00\x00" + len(payload).to_bytes(4, "big") + payload


def context(cluster: SimCore, task: SimTask) -> LineContext:
    node = cluster.nodes.get(task.node_id)
    ip = task.networks[0][1].split("/", 1)[0] if task.networks else "172.17.0.2"
    return LineContext(task.container_id, task.service_name, task.slot,
                       node.hostname if node else "", ip)


def task_lines(cluster: SimCore, task: SimTask, lo_ns: int, hi_ns: int,
               tail: int | None, opts: LogOptions) -> list[LogLine]:
    """The task's lines with ``lo <= t <= hi`` (last ``tail`` of them), streams filtered."""
    if task.running_ns is None:
        return []
    end = hi_ns if task.ended_ns is None else min(hi_ns, task.ended_ns)
    if simprobe.is_probe_task(task):
        return _probe_lines(cluster, task, lo_ns, end, tail, opts)
    period = task.profile.period_ns
    first, last = index_range(task.running_ns, period, task.log_seed, lo_ns, end)
    if tail is not None:
        first = max(first, last - tail + 1)
    if first > last:
        return []
    ctx = context(cluster, task)
    kind = task.profile.kind
    out = []
    for i in range(first, last + 1):
        ts = line_time(task.running_ns, period, task.log_seed, i)
        stream, text = render(kind, task.log_seed, i, ts, ctx)
        if (stream == 1 and opts.stdout) or (stream == 2 and opts.stderr):
            out.append(LogLine(ts, stream, text, task.node_id, task.service_id, task.id))
    return out


def _probe_lines(cluster: SimCore, task: SimTask, lo_ns: int, end_ns: int,
                 tail: int | None, opts: LogOptions) -> list[LogLine]:
    """A node probe prints its framed answers right after it starts (one per µs here)."""
    assert task.running_ns is not None
    if not opts.stdout:
        return []
    out = [LogLine(task.running_ns + (i + 1) * 1000, 1, text, task.node_id, task.service_id,
                   task.id) for i, text in enumerate(simprobe.probe_log(cluster, task))]
    out = [line for line in out if lo_ns <= line.ts <= end_ns]
    if tail is not None:
        out = out[-tail:] if tail > 0 else []
    return out


def readable(cluster: SimCore, task: SimTask) -> bool:
    node = cluster.nodes.get(task.node_id)
    return node is not None and node.state == "ready"


def collect(cluster: SimCore, tasks: list[SimTask], opts: LogOptions) -> LogResult:
    """A non-follow request: every task that ever ran, merged by timestamp."""
    result = LogResult()
    per_task: list[list[LogLine]] = []
    hi = cluster.now_ns if opts.until_ns is None else min(cluster.now_ns, opts.until_ns)
    lo = opts.since_ns or 0
    for task in sorted(tasks, key=lambda t: t.meta.created_ns):
        if task.running_ns is None:
            continue
        if not readable(cluster, task):
            reason = f"node {task.node_id} is not available"
            if reason not in result.errors:
                result.errors.append(reason)
            continue
        lines = task_lines(cluster, task, lo, hi, opts.tail, opts)
        if lines:
            per_task.append(lines)
    result.lines = list(heapq.merge(*per_task, key=lambda line: line.ts))
    return result
