"""Following service logs: one :class:`LogFollower` per service, merged by a :class:`LogSession`.

A follower holds one raw ``GET /services/{id}/logs`` stream (``details=1&timestamps=1``, no
read timeout: aiodocker's ``services.logs`` would inherit the client timeout and drops the
stream type), decodes frames with the pure :mod:`swarmtui.model.logs` helpers, names each
line like the docker CLI (``service.slot.task@node``) from the store's nodes and tasks (one
``GET /tasks/{id}`` for tasks the store does not know yet), sanitises it and hands the lines
to a sink one network chunk at a time (batching at the source: never a call per line).

Streams end or hang (engine weaknesses: docker/cli#4678, moby/moby#33183, #41733), so a
follower resumes by itself: after EOF, a broken connection, or a hang found by the session's
watchdog, it re-opens the stream with ``since=`` just before the last line it saw and a
:class:`~swarmtui.model.logs.ResumeDeduper` drops the replayed lines. Tasks replaced during
an update keep flowing because swarmkit adds new tasks to a follow subscription. A node whose
connection to the manager broke is lost to a follow stream for good (a frozen dockerd, see
:meth:`LogFollower.rejoin`): when a node comes back or the engine connection returns, the
streams concerned are re-opened from each task's last delivered line.

The session owns the followers for a :class:`~swarmtui.model.log_targets.LogTargets`
selection, starts and stops them as services appear and disappear in the store, merges their
lines into one bounded :class:`~swarmtui.model.logs.LogRing`, and reports each stream's
health (live, idle, stalled, reconnecting, ended, node unavailable). Its
:class:`IntakeGate` lets the UI answer a key first: while held, followers take no more lines.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import aiodocker
import aiohttp

from swarmtui.engine.client import EngineClient, EngineError
from swarmtui.engine.store import SwarmStore
from swarmtui.model.log_targets import LogTargets, select_services
from swarmtui.model.logs import (
    DAEMON,
    NS_PER_S,
    STDERR,
    SWARM_NODE_ID,
    SWARM_TASK_ID,
    FrameDecoder,
    LogLine,
    LogRecord,
    LogRing,
    ResumeDeduper,
    format_since,
    merge_by_time,
    parse_payload,
    parse_rfc3339_ns,
    sanitize,
    stream_name,
)
from swarmtui.model.state import ClusterState
from swarmtui.model.types import Service, Task

LineSink = Callable[[Sequence[LogLine]], None]

# Health states, in the order the strip sorts problems first.
LIVE = "live"
IDLE = "idle"
CONNECTING = "connecting"
RECONNECTING = "reconnecting"
STALLED = "stalled"
NODE_UNAVAILABLE = "node unavailable"
ENDED = "ended"
ERROR = "error"

# The backlog (the lines each stream sends first) is gathered and merged by time before any
# of it is shown: a stream's backlog is complete once it has been open this long and then
# fell quiet (or delivers lines newer than the request); nothing waits longer than the cap.
BACKLOG_QUIET_S = 0.3
BACKLOG_MAX_S = 3.0
# A rejoin (a node back, the engine connection back) re-reads tasks' lines from their last
# delivered one, but not from longer than this before the trouble was noticed (a task quiet
# for hours would otherwise replay hours of its service's lines, dropped as duplicates).
REJOIN_SLACK_NS = 60 * NS_PER_S

_NOT_AVAILABLE_RE = re.compile(r"node (\S+) is not available")
_SUFFIX_RE = re.compile(r"… \[\+(\d+) chars\]$")
# Exceptions that mean "the stream broke": reconnect. (RuntimeError: aiohttp raises it when
# the session was closed under us by a reconnecting LiveSwarm.)
_STREAM_ERRORS = (
    aiohttp.ClientError,
    aiodocker.DockerError,
    EngineError,
    OSError,
    asyncio.IncompleteReadError,
    RuntimeError,
)


@dataclass(frozen=True, slots=True)
class FollowOptions:
    """How to follow. ``tail=None`` means all lines; ``since_ns`` is unix ns."""

    follow: bool = True
    tail: int | None = 200
    since_ns: int | None = None
    idle_s: float = 10.0
    # The watchdog probes a stream when a running task has been silent this long.
    stall_s: float = 20.0
    max_probe_interval_s: float = 300.0
    # A resumed stream asks for lines from this long before the last healthy moment
    # (covers clock skew between our clock and the nodes', and lines in flight).
    lookback_ns: int = 5 * NS_PER_S
    max_chars: int = 4000
    # Non-follow streams that break are resumed this many times, then reported as errors.
    retries: int = 3


@dataclass(frozen=True, slots=True)
class StreamHealth:
    """One stream's health as shown in the health strip."""

    service_id: str
    service_name: str
    state: str
    detail: str = ""
    lines: int = 0
    dropped: int = 0
    reconnects: int = 0
    # Per task, for a service some of whose tasks sit on unreachable nodes: the tasks that
    # should be running, how many of them cannot deliver, and those nodes' names.
    tasks: int = 0
    unreachable: int = 0
    nodes_down: tuple[str, ...] = ()


class StreamHung(Exception):
    """The watchdog found lines the follow stream never delivered."""


class NameResolver:
    """Task slot and node name for a line, like the docker CLI's idresolver, but cached.

    The store knows nodes and (recent) tasks; a task it does not know yet (a replacement
    started a moment ago, or a history task) costs one ``GET /tasks/{id}``, once.
    """

    def __init__(self, client: EngineClient | None, store: SwarmStore) -> None:
        self.client = client
        self.store = store
        self._cache: dict[str, tuple[int | None, str]] = {}  # task id -> (slot, node name)
        self._slots: dict[str, int | None] = {}  # fetched tasks
        self._nodes: dict[str, str] = {}  # fetched node names
        self.fetches = 0

    def known(self, task_id: str) -> bool:
        return task_id in self._cache or task_id in self._slots or task_id in self.store.state.tasks

    def is_cached(self, task_id: str) -> bool:
        """True once the task's slot and node name are final (safe to remember per line)."""
        return task_id in self._cache

    def node_name(self, node_id: str) -> str:
        node = self.store.state.nodes.get(node_id)
        return node.name if node is not None else self._nodes.get(node_id, node_id)

    def lookup(self, task_id: str, node_id: str) -> tuple[int | None, str]:
        hit = self._cache.get(task_id)
        if hit is not None:
            return hit
        state = self.store.state
        task = state.tasks.get(task_id)
        node = state.nodes.get(node_id)
        node_name = node.name if node is not None else self._nodes.get(node_id, node_id)
        if not task_id:
            return (None, node_name)
        if task is not None:
            slot = task.slot
        elif task_id in self._slots:
            slot = self._slots[task_id]
        else:
            return (None, node_name)
        result = (slot, node_name)
        if node is not None or node_id in self._nodes:
            self._cache[task_id] = result
        return result

    async def fetch(self, task_ids: Iterable[str], node_ids: Iterable[str] = ()) -> None:
        if self.client is None:
            return
        for task_id in task_ids:
            if task_id in self._slots:
                continue
            self.fetches += 1
            try:
                raw = await self.client.get_json(f"tasks/{task_id}")
                slot = raw.get("Slot") if isinstance(raw, dict) else None
                self._slots[task_id] = slot if isinstance(slot, int) and slot > 0 else None
            except EngineError:
                self._slots[task_id] = None  # like the CLI: fall back rather than fail
        nodes = self.store.state.nodes
        for node_id in node_ids:
            if node_id in nodes or node_id in self._nodes or not node_id:
                continue
            self.fetches += 1
            try:
                raw = await self.client.get_json(f"nodes/{node_id}")
            except EngineError:
                self._nodes[node_id] = node_id
                continue
            spec = raw.get("Spec", {}) if isinstance(raw, dict) else {}
            desc = raw.get("Description", {}) if isinstance(raw, dict) else {}
            self._nodes[node_id] = spec.get("Name") or desc.get("Hostname") or node_id


class _Partial:
    """A line that arrived in pieces, being put back together (bounded by a cap)."""

    __slots__ = ("buf", "extra", "record", "stream")

    def __init__(self, stream: int, buf: bytearray, record: LogRecord | None = None) -> None:
        self.stream = stream
        self.record = record  # multiplexed: the first piece (timestamp, details)
        self.buf = buf
        self.extra = 0  # bytes beyond the cap: not kept, only counted

    def add(self, piece: bytes, cap: int) -> None:
        room = cap - len(self.buf)
        if room >= len(piece):
            self.buf += piece
        else:
            if room > 0:
                self.buf += piece[:room]
            self.extra += len(piece) - max(room, 0)


def _with_hidden(text: str, extra: int) -> str:
    """Add ``extra`` never-decoded bytes (counted as characters) to the visible cut mark."""
    if not extra:
        return text
    m = _SUFFIX_RE.search(text)
    if m is not None:
        return text[: m.start()] + f"… [+{int(m.group(1)) + extra} chars]"
    return text + f"… [+{extra} chars]"


class _Splitter:
    """Cuts a response body into ``(stream, payload)`` frames.

    The pure :class:`FrameDecoder` builds a ``Frame`` object per message, which costs about
    a microsecond each; at the engine's ~70k lines/s that matters, so well-formed
    multiplexed streams are split here into tuples, and anything else (TTY streams, a bad
    header that means the stream is not multiplexed after all) is handed to the decoder.
    """

    __slots__ = ("buf", "decoder")

    def __init__(self, *, tty: bool) -> None:
        self.decoder: FrameDecoder | None = FrameDecoder(raw=True) if tty else None
        self.buf = b""

    @property
    def raw(self) -> bool:
        return self.decoder is not None and self.decoder.raw

    def feed(self, chunk: bytes) -> list[tuple[int, bytes]]:
        if self.decoder is not None:
            return [(f.stream, f.payload) for f in self.decoder.feed(chunk)]
        buf = self.buf + chunk if self.buf else chunk
        out: list[tuple[int, bytes]] = []
        pos = 0
        n = len(buf)
        while n - pos >= 8:
            stream = buf[pos]
            size = int.from_bytes(buf[pos + 4 : pos + 8], "big")
            if stream > 3 or buf[pos + 1] or buf[pos + 2] or buf[pos + 3] or size > _MAX_FRAME:
                self.decoder = FrameDecoder(max_frame=_MAX_FRAME)  # falls back to raw
                self.buf = b""
                return out + [(f.stream, f.payload) for f in self.decoder.feed(buf[pos:])]
            end = pos + 8 + size
            if end > n:
                break
            out.append((stream, buf[pos + 8 : end]))
            pos = end
        self.buf = buf[pos:]
        return out

    def flush(self) -> list[tuple[int, bytes]]:
        """End of stream; an incomplete multiplexed frame is dropped (see FrameDecoder)."""
        self.buf = b""
        if self.decoder is not None:
            return [(f.stream, f.payload) for f in self.decoder.flush()]
        return []


class IntakeGate:
    """Input first: the UI holds log intake while it answers a key. Followers wait at the
    gate before each slice of frames (their data waits in the socket meanwhile, nothing is
    lost), so a view switch under a flood is not interleaved with ~7 ms slices of log
    decoding at every turn of the event loop. A hold ends on :meth:`release` (the answer is
    painted) or after ``max_s``, whichever comes first; holding again while held does not
    move that bound, so a key held down cannot stop intake for longer.

    A hold also pauses the cyclic collector: under a flood its passes walk the ring's lines
    (a full one 20-35 ms, gen 1 up to 6 ms), and one of them fell in about a third of the
    slowest answers. What it would have collected waits at most ``max_s``."""

    __slots__ = ("_collector_paused", "_open", "_timer", "holds")

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self._timer: asyncio.TimerHandle | None = None
        self._collector_paused = False
        self.holds = 0  # holds begun (tests, benchmarks)

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def hold(self, max_s: float) -> None:
        if not self._open.is_set():
            return
        self.holds += 1
        self._open.clear()
        self._timer = asyncio.get_running_loop().call_later(max_s, self.release)
        if gc.isenabled():  # not if someone else paused it: theirs to resume
            gc.disable()
            self._collector_paused = True

    def release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._collector_paused:
            self._collector_paused = False
            gc.enable()
        self._open.set()

    async def wait(self) -> None:
        await self._open.wait()


_MAX_FRAME = 8 << 20
INTAKE_SLICE = 512
"""Frames turned into lines per turn of the event loop: a network read can hold thousands
of lines (~14 µs each), and keys and frames wait while they are decoded, so a big read is
taken in slices with a yield to the loop between them (~7 ms of work each)."""
_FAST_DRAIN = os.environ.get("SWARMTUI_NO_FAST_DRAIN") != "1"


async def _read_some(content: aiohttp.StreamReader) -> bytes:
    """``readany()``, but taking the buffered HTTP chunks in bulk (see :func:`_drain`)."""
    if _FAST_DRAIN and type(getattr(content, "_buffer", None)) is collections.deque:
        exc = content.exception()
        if exc is not None:
            raise exc
        buf = content._buffer
        # What readany() does before reading: wait until data or the end arrives.
        while not buf and not content.is_eof():
            await content._wait("readany")
        data = _drain(content)
        if data:
            return data
    return await content.readany()


def _drain(content: aiohttp.StreamReader) -> bytes:
    """Everything an aiohttp StreamReader holds, taken in one join (b"" when empty).

    The engine flushes one HTTP chunk per log line, and ``readany()`` pops buffered chunks
    one at a time with bookkeeping per chunk (a resume_reading() call each): about 10 % of
    the pane's CPU in a flood (profiled). This takes them all at once, with the same
    bookkeeping done once. It touches aiohttp internals, so it checks their shape first
    (written against aiohttp 3.14, exercised by tests/test_logs_engine.py) and otherwise
    leaves it to readany(). ``SWARMTUI_NO_FAST_DRAIN=1`` turns it off.
    """
    buf = getattr(content, "_buffer", None)
    if not _FAST_DRAIN or type(buf) is not collections.deque or len(buf) < 2:
        return b""
    try:
        offset = content._buffer_offset
        splits = content._http_chunk_splits
        protocol = content._protocol
        data = b"".join(buf)
        if offset:
            data = data[offset:]
        buf.clear()
        content._buffer_offset = 0
        content._size -= len(data)
        content._cursor += len(data)
        if splits:
            splits.clear()  # chunk boundaries up to the cursor: all consumed
        protocol.resume_reading()
    except AttributeError:
        return b""
    return data


class LogFollower:
    """Follows one service's logs; resumes after EOF, errors and hangs. Run ``run()``."""

    def __init__(
        self,
        client: EngineClient,
        service: Service,
        names: NameResolver,
        sink: LineSink,
        options: FollowOptions,
        *,
        on_change: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_ns: Callable[[], int] = time.time_ns,
        gate: IntakeGate | None = None,
    ) -> None:
        self.client = client
        self.gate = gate
        self.service = service
        self.names = names
        self.sink = sink
        self.options = options
        self.on_change = on_change
        self.clock = clock
        self.wall_ns = wall_ns
        self.dedupe = ResumeDeduper()
        # Where the sink's ring will put the next line: lines built with the right seq are
        # stored as they are (the ring re-stamps any other value with a copy of the line).
        self.next_seq: Callable[[], int] = lambda: -1
        self.state = CONNECTING
        self.detail = ""
        self.lines = 0
        self.reconnects = 0
        self.connected = False
        self.last_line_s: float | None = None
        self.opened_s = clock()
        self.task_seen_s: dict[str, float] = {}  # task id -> monotonic time of its last line
        self.next_probe_s = 0.0
        self.probe_interval_s = options.stall_s
        self.probes = 0
        self.node_problem = ""  # from the daemon's "node … is not available" frames
        self.unavailable_nodes: set[str] = set()  # the node IDs those frames named
        self._ever_connected = False
        self._first_open_wall = 0  # wall clock when the first stream opened (0: not yet)
        self._live_seen = False  # a line newer than the first request arrived
        self._resp: aiohttp.ClientResponse | None = None
        self._hung = False
        self._hung_detail = ""  # what the strip says while a hung stream is re-read
        # A resume re-reads from no later than this (unix ns): set when tasks are known to
        # have lines the stream never delivered (see rejoin() and probe()).
        self._floor_ns: int | None = None
        # task id -> (timestamp, monotonic time): lines a probe saw on the engine, too fresh
        # to say the stream missed them; a later probe checks they arrived (see probe()).
        self._suspects: dict[str, tuple[int, float]] = {}
        self._rejoin_on_open = False  # a rejoin asked for while no stream was open
        self._last_chunk_wall = 0
        self._last_chunk_s = 0.0
        self._partials: dict[tuple[str, int], _Partial] = {}
        self._det_cache: dict[bytes, tuple[str, str, int | None, str]] = {}
        self._minutes: dict[bytes, int] = {}
        self._raw_cont: _Partial | None = None
        self._cap = options.max_chars * 16 + 1024
        self._turn_frames = 0  # frames taken since the event loop last turned (see _take)

    # -- health ------------------------------------------------------------------------
    def _set(self, state: str, detail: str = "") -> None:
        if (state, detail) != (self.state, self.detail):
            self.state, self.detail = state, detail
            if self.on_change is not None:
                self.on_change()

    def health(self, now_s: float | None = None) -> StreamHealth:
        state, detail = self.state, self.detail
        if state == LIVE:
            now = self.clock() if now_s is None else now_s
            last = self.last_line_s if self.last_line_s is not None else self.opened_s
            if now - last > self.options.idle_s:
                state = IDLE
        if self.node_problem and state in (LIVE, IDLE, ENDED):
            state, detail = NODE_UNAVAILABLE, self.node_problem
        return StreamHealth(
            self.service.id, self.service.name, state, detail, self.lines, 0, self.reconnects
        )

    def backlog_delivered(self, now_s: float, quiet_s: float = BACKLOG_QUIET_S) -> bool:
        """True once the first response's history has most likely all arrived: the stream
        ended, failed or was resumed; or it has been open ``quiet_s`` and since then fell
        quiet that long or delivers lines newer than the request (live lines)."""
        if self.state in (ENDED, ERROR) or self.reconnects:
            return True
        if not self._ever_connected or now_s - self.opened_s < quiet_s:
            return False
        return self._live_seen or now_s - max(self.opened_s, self._last_chunk_s) >= quiet_s

    # -- the loop ----------------------------------------------------------------------
    def _params(self, resume_since: int | None) -> dict[str, str]:
        opts = self.options
        params = {
            "stdout": "1",
            "stderr": "1",
            "details": "1",
            "timestamps": "1",
            "follow": "1" if opts.follow else "0",
        }
        if resume_since is not None:
            params["since"] = format_since(resume_since)  # and every line since: no tail
        else:
            params["tail"] = "all" if opts.tail is None else str(max(0, opts.tail))
            if opts.since_ns is not None:
                params["since"] = format_since(opts.since_ns)
        return params

    def resume_since(self, healthy_wall_ns: int, healthy_s: float) -> int | None:
        """Where a resumed stream starts (None: repeat the original request).

        A task's lines after its last seen timestamp may be missing, so the stream resumes
        at the oldest last-seen timestamp of the tasks that were still delivering when the
        stream broke (``healthy_s``, monotonic; ``healthy_wall_ns`` the same moment on the
        wall clock). A task that had been quiet for a while delivered everything it printed
        before then, so it does not drag the resume point back in time (which would replay
        hours of other tasks' lines); ``lookback_ns`` covers clock skew and lines in flight.
        Non-follow reads deliver history, where quietness means nothing: oldest of all.
        """
        opts = self.options
        if not opts.follow:
            seen = self.dedupe.since_ns()
            return None if seen is None else max(seen, opts.since_ns or 0)
        if not self.lines and not self._ever_connected:
            return None  # nothing shown yet: the original request is still right
        window_s = 2 * opts.lookback_ns / NS_PER_S
        since = healthy_wall_ns - opts.lookback_ns
        for task_id, seen_s in self.task_seen_s.items():
            last = self.dedupe.last_ns(task_id)
            if last is not None and seen_s >= healthy_s - window_s:
                since = min(since, last)
        return max(since, opts.since_ns or 0)

    async def run(self) -> None:
        """Follow until cancelled (follow mode) or until the logs are read (non-follow)."""
        opts = self.options
        backoff = 0.25
        failures = 0
        resume: int | None = None
        was_hung = False
        while True:
            self.connected = False
            self._hung = False
            if was_hung:
                self._set(STALLED, self._hung_detail or "stream hung: resuming")
            elif self.reconnects:
                self._set(RECONNECTING, self.detail)
            lines_before = self.lines
            error: BaseException | None = None
            try:
                await self._stream(self._params(resume))
            except asyncio.CancelledError:
                raise
            except _STREAM_ERRORS as exc:
                if not self._hung:
                    if isinstance(exc, aiodocker.DockerError | EngineError) and exc.status == 404:
                        self._flush_partials()
                        self._set(ENDED, "service removed")
                        return
                    error = exc
            self._flush_partials()
            was_hung = self._hung
            progressed = self.lines > lines_before
            healthy, healthy_s = self.wall_ns(), self.clock()
            if was_hung:
                healthy = self._last_chunk_wall or healthy
                healthy_s = self._last_chunk_s or healthy_s
                reason = "stream hung"
            elif error is None:
                if not opts.follow:
                    self._set(ENDED, self.detail)
                    return
                reason = "the engine ended the stream"
            else:
                reason = _describe(error)
                failures = 0 if progressed else failures + 1
                if not opts.follow and failures > opts.retries:
                    self._set(ERROR, reason)
                    return
            resume = self.resume_since(healthy, healthy_s)
            floor, self._floor_ns = self._floor_ns, None
            if floor is not None and resume is not None:
                resume = min(resume, floor)
            self.dedupe.mark_reconnect()
            self.reconnects += 1
            if not was_hung:
                self._set(RECONNECTING, reason)
            if progressed or was_hung:
                backoff = 0.25
                await asyncio.sleep(0.05)
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _stream(self, params: dict[str, str]) -> None:
        async with self.client.stream("GET", f"services/{self.service.id}/logs", params) as resp:
            self._resp = resp
            if not self._ever_connected:
                self._first_open_wall = self.wall_ns()
            self.connected = self._ever_connected = True
            if self.options.follow:
                self.node_problem = ""  # a follow stream says nothing about down nodes
                self.unavailable_nodes = set()
            if self._rejoin_on_open:
                # Asked for while this request was on its way: it may predate what the
                # rejoin is about (a node back), so it is ended and re-read from the floor.
                self._rejoin_on_open = False
                self._hung = True
                self._resp = None
                return
            self.opened_s = self.clock()
            self.next_probe_s = self.opened_s + self.options.stall_s
            self.probe_interval_s = self.options.stall_s
            self._suspects.clear()
            self._hung_detail = ""
            self._set(LIVE, "")
            splitter = _Splitter(tty=self.service.tty)
            content = resp.content
            try:
                while True:
                    if not getattr(content, "_buffer", None):
                        self._turn_frames = 0  # the read waits: the loop turns meanwhile
                    chunk = await _read_some(content)
                    if not chunk:
                        break
                    self._last_chunk_wall = self.wall_ns()
                    self._last_chunk_s = self.clock()
                    frames = splitter.feed(chunk)
                    if frames:
                        await self._take(frames, splitter.raw)
                frames = splitter.flush()
                if frames:
                    await self._take(frames, splitter.raw)
            finally:
                self._resp = None

    async def _take(self, frames: list[tuple[int, bytes]], raw: bool) -> None:
        """Hand frames on, at most :data:`INTAKE_SLICE` per turn of the event loop (counted
        across reads that were already buffered), yielding to the loop when a turn's share
        is used up. Split lines and TTY pieces carry over between calls."""
        pos = 0
        gate = self.gate
        while pos < len(frames):
            if gate is not None and not gate.is_open:
                await gate.wait()  # a key is being answered first
                self._turn_frames = 0
            room = INTAKE_SLICE - self._turn_frames
            if room <= 0:
                await asyncio.sleep(0)
                self._turn_frames = 0
                continue
            part = frames[pos : pos + room] if pos or len(frames) > room else frames
            self._turn_frames += len(part)
            pos += len(part)
            await self._emit(part, raw)

    async def _emit(self, frames: list[tuple[int, bytes]], raw: bool) -> None:
        """Turn a chunk's frames into lines and hand them to the sink in one batch.

        Fast path (almost every line of a multiplexed stream): a fixed-width UTC timestamp,
        a details token already seen (its task is resolved: slot and node name cached), a
        complete line. Everything else takes the general path through ``parse_payload``.
        """
        if raw:
            await self._emit_general(self._raw_join(frames))
            return
        out: list[LogLine] = []
        det_cache = self._det_cache
        minutes = self._minutes
        accept = self.dedupe.accept
        max_chars = self.options.max_chars
        sid, sname = self.service.id, self.service.name
        seq0 = self.next_seq()
        for stream, payload in frames:
            if (
                (stream == 1 or stream == 2)
                and not self._partials
                and len(payload) > 32
                and payload[30] == 32  # "<30-byte timestamp> "
                and payload[-1] == 10  # a complete line
            ):
                sp = payload.find(b" ", 31)
                ident = det_cache.get(payload[31:sp]) if sp > 0 else None
                ns = None
                if ident is not None:
                    base = minutes.get(payload[:17])  # "YYYY-MM-DDTHH:MM:"
                    if base is not None and payload[29] == 90 and payload[19] == 46:  # Z .
                        try:
                            ns = base + int(payload[17:19] + payload[20:29])  # SS nnnnnnnnn
                        except ValueError:
                            ns = None
                    else:
                        ns = self._ts_ns(payload)
                if ns is not None and ident is not None:
                    end = -2 if payload[-2] == 13 else -1  # a tty's CR LF
                    text = sanitize(payload[sp + 1 : end], max_chars=max_chars)
                    task_id, node_id, slot, node_name = ident
                    if accept(task_id, ns, text):
                        out.append(
                            LogLine(
                                seq0 + len(out),
                                ns,
                                payload[:30].decode("ascii"),
                                "stdout" if stream == 1 else "stderr",
                                sid,
                                sname,
                                task_id,
                                slot,
                                node_id,
                                node_name,
                                text,
                                False,
                            )
                        )
                    continue
            out.extend(await self._general_lines([(stream, payload, 0)]))
            seq0 = self.next_seq()  # after an await another stream may have added lines
        self._deliver(out)

    def _ts_ns(self, payload: bytes) -> int | None:
        """The fixed-width ``YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`` at the start, via a per-minute
        cache of the epoch offset (the general parser handles every other form)."""
        if payload[29] != 90 or payload[19] != 46:  # "Z", "."
            return None
        minute = payload[:17]
        sec, frac = payload[17:19], payload[20:29]
        if not (sec.isdigit() and frac.isdigit()):
            return None
        base = self._minutes.get(minute)
        if base is None:
            ns = parse_rfc3339_ns(payload[:30].decode("ascii", "replace"))
            if ns is None:
                return None
            base = ns - int(sec) * NS_PER_S - int(frac)
            if len(self._minutes) > 1024:
                self._minutes.clear()
            self._minutes[minute] = base
        return base + int(sec) * NS_PER_S + int(frac)

    async def _emit_general(self, payloads: list[tuple[int, bytes, int]]) -> None:
        self._deliver(await self._general_lines(payloads))

    async def _general_lines(self, payloads: list[tuple[int, bytes, int]]) -> list[LogLine]:
        records = [
            (stream, parse_payload(payload, timestamps=True, details=True), extra)
            for stream, payload, extra in payloads
        ]
        names = self.names
        missing = [
            tid
            for _, r, _ in records
            if (tid := r.details.get(SWARM_TASK_ID, "")) and not names.known(tid)
        ]
        if missing:
            nodes = {r.details.get(SWARM_NODE_ID, "") for _, r, _ in records}
            await names.fetch(dict.fromkeys(missing), nodes)
        lines = self._build(records)
        # Remember resolved details tokens for the fast path.
        for (stream, payload, _), (_, rec, _) in zip(payloads, records, strict=True):
            if stream in (1, 2) and rec.timestamp and not rec.partial and len(payload) > 31:
                task_id = rec.details.get(SWARM_TASK_ID, "")
                node_id = rec.details.get(SWARM_NODE_ID, "")
                sp = payload.find(b" ", 31)
                if task_id and sp > 0 and names.is_cached(task_id):
                    slot, node_name = names.lookup(task_id, node_id)
                    if len(self._det_cache) > 4096:
                        self._det_cache.clear()
                    self._det_cache[payload[31:sp]] = (task_id, node_id, slot, node_name)
        return lines

    def _deliver(self, lines: list[LogLine]) -> None:
        if not lines:
            return
        now = self.clock()
        self.last_line_s = now
        self.lines += len(lines)
        seen = self.task_seen_s
        for line in lines:
            seen[line.task_id] = now
        if not self._live_seen and lines[-1].ts_ns >= self._first_open_wall > 0:
            self._live_seen = True
        if self.state != LIVE and self.connected:
            self._set(LIVE, "")
        self.sink(lines)

    def _raw_join(self, frames: Sequence[tuple[int, bytes]]) -> list[tuple[int, bytes, int]]:
        """Raw (TTY) streams: the decoder cuts lines longer than 64 KiB into pieces without
        timestamp or details; glue them back to one payload (capped, the rest counted)."""
        out: list[tuple[int, bytes, int]] = []
        for stream, payload in frames:
            cont = self._raw_cont
            if cont is None:
                if payload.endswith(b"\n"):
                    out.append((stream, payload, 0))
                else:
                    self._raw_cont = _Partial(stream, bytearray(payload))
                continue
            cont.add(payload, self._cap)
            if payload.endswith(b"\n"):
                self._raw_cont = None
                if not cont.buf.endswith(b"\n"):
                    cont.buf += b"\n"  # the cap cut the newline off: the line is complete
                out.append((cont.stream, bytes(cont.buf), cont.extra))
        return out

    def _build(self, records: Sequence[tuple[int, LogRecord, int]]) -> list[LogLine]:
        out: list[LogLine] = []
        sid = self.service.id
        sname = self.service.name
        max_chars = self.options.max_chars
        accept = self.dedupe.accept
        lookup = self.names.lookup
        partials = self._partials
        for stream, rec, extra in records:
            if stream == DAEMON:
                out.append(self._daemon_line(rec))
                continue
            det = rec.details
            task_id = det.get(SWARM_TASK_ID, "")
            if rec.partial or (partials and (task_id, stream) in partials):
                joined = self._join_partial(stream, rec, task_id)
                if joined is None:
                    continue
                rec, text = joined
            else:
                text = sanitize(rec.message, max_chars=max_chars)
                if extra:
                    text = _with_hidden(text, extra)
            if not accept(task_id, rec.ts_ns, text):
                continue
            node_id = det.get(SWARM_NODE_ID, "")
            slot, node_name = lookup(task_id, node_id)
            out.append(
                LogLine(
                    -1,
                    rec.ts_ns,
                    rec.timestamp,
                    "stderr" if stream == STDERR else "stdout",
                    sid,
                    sname,
                    task_id,
                    slot,
                    node_id,
                    node_name,
                    text,
                    False,
                )
            )
        return out

    def _join_partial(
        self, stream: int, rec: LogRecord, task_id: str
    ) -> tuple[LogRecord, str] | None:
        """Multiplexed streams: a line over 16 KiB arrives as several messages of the same
        task and stream, all but the last without a newline. Return the whole line (first
        piece's timestamp) once its last piece came."""
        key = (task_id, stream)
        part = self._partials.get(key)
        if part is None:
            part = self._partials[key] = _Partial(stream, bytearray(rec.message), rec)
        else:
            part.add(rec.message, self._cap)
        if rec.partial:
            return None
        del self._partials[key]
        first = part.record or rec
        text = sanitize(bytes(part.buf), max_chars=self.options.max_chars)
        return first, _with_hidden(text, part.extra)

    def _flush_partials(self) -> None:
        """A stream ended in the middle of a split line: show what arrived, marked partial."""
        pending: list[tuple[int, LogRecord, int]] = []
        for part in self._partials.values():
            rec = part.record
            assert rec is not None
            pending.append((part.stream, replace(rec, message=bytes(part.buf)), part.extra))
        self._partials.clear()
        cont, self._raw_cont = self._raw_cont, None
        if cont is not None:
            rec = parse_payload(bytes(cont.buf), timestamps=True, details=True)
            pending.append((cont.stream, rec, cont.extra))
        if not pending:
            return
        lines = []
        for stream, rec, extra in pending:
            task_id = rec.details.get(SWARM_TASK_ID, "")
            node_id = rec.details.get(SWARM_NODE_ID, "")
            slot, node_name = self.names.lookup(task_id, node_id)
            text = _with_hidden(sanitize(rec.message, max_chars=self.options.max_chars), extra)
            if not self.dedupe.accept(task_id, rec.ts_ns, text):
                continue
            lines.append(
                LogLine(
                    -1,
                    rec.ts_ns,
                    rec.timestamp,
                    "stderr" if stream == STDERR else "stdout",
                    self.service.id,
                    self.service.name,
                    task_id,
                    slot,
                    node_id,
                    node_name,
                    text,
                    True,
                )
            )
        self._deliver(lines)

    def _daemon_line(self, rec: LogRecord) -> LogLine:
        text = sanitize(rec.message, max_chars=self.options.max_chars)
        if self._note_unavailable(text) and self.on_change is not None:
            self.on_change()
        return LogLine(
            -1, 0, "", "daemon", self.service.id, self.service.name, "", None, "", "", text
        )

    def nodes_returned(self, node_ids: Collection[str]) -> None:
        """Nodes the store saw come back (down, then ready): the daemon's old word that they
        are not available no longer holds (a follow stream is not reopened to learn it)."""
        if not self.unavailable_nodes & set(node_ids):
            return
        self.unavailable_nodes -= set(node_ids)
        left = sorted(self.unavailable_nodes)
        self.node_problem = f"node {self.names.node_name(left[0])} is not available" if left else ""

    def _note_unavailable(self, text: str) -> bool:
        """Remember the nodes a daemon error says it cannot read from; True if it named any."""
        ids = [m.group(1) for m in _NOT_AVAILABLE_RE.finditer(text)]
        if not ids:
            return False
        self.unavailable_nodes.update(ids)
        self.node_problem = f"node {self.names.node_name(ids[0])} is not available"
        return True

    # -- rejoining ---------------------------------------------------------------------
    def catch_up_since(self, task_ids: Iterable[str], bound_ns: int = 0) -> int | None:
        """The oldest moment from which these tasks' lines may be missing (unix ns): a task's
        last delivered line, or for one never seen on this stream, when it was created; not
        before ``bound_ns`` nor the session's first request (there was nothing to miss)."""
        tasks = self.names.store.state.tasks
        lookback = self.options.lookback_ns
        floor: int | None = None
        for task_id in task_ids:
            last = self.dedupe.last_ns(task_id)
            if last is None:
                task = tasks.get(task_id)
                if task is None or task.created_ns is None:
                    continue
                last = task.created_ns - lookback  # the node's clock may be behind
            floor = last if floor is None else min(floor, last)
        if floor is None:
            return None
        lower = max(bound_ns, self._first_open_wall - lookback, self.options.since_ns or 0)
        return max(floor, lower)

    def rejoin(self, task_ids: Iterable[str], why: str, bound_ns: int = 0) -> None:
        """Re-open the stream, re-reading these tasks' lines from their last delivered one.

        The engine's follow subscription loses a node for good when the node's connection
        to the manager broke (the node's dockerd frozen, or the manager's): swarmkit's log
        broker marks the node's publisher done (manager/logbroker/broker.go, PublishLogs ->
        markDone) and the stream never carries that node's lines again, not even for the
        task that replaces the old one, while a fresh request gets them (found on the lab,
        tests/test_faults_lab.py; the same engine weakness as moby/moby#33183). So the session
        calls this when a node comes back or the engine connection returns."""
        if not (self.options.follow and self._ever_connected):
            return  # the first request is still on its way: it is fresh anyway
        floor = self.catch_up_since(task_ids, bound_ns)
        if floor is not None:
            self._floor_ns = floor if self._floor_ns is None else min(self._floor_ns, floor)
        self._hung_detail = f"{why}: re-reading"
        resp = self._resp
        if resp is not None and self.connected:
            self._hung = True
            resp.close()  # the read loop ends; run() resumes from the floor
        else:
            self._rejoin_on_open = True

    # -- watchdog ----------------------------------------------------------------------
    def probe_due(self, now_s: float, running: Sequence[Task]) -> bool:
        """True when a running task has been silent for ``stall_s`` and a probe is due."""
        if not (self.options.follow and self.connected and self.state == LIVE):
            return False
        if now_s < self.next_probe_s:
            return False
        limit = now_s - self.options.stall_s
        seen = self.task_seen_s
        return any(seen.get(t.id, self.opened_s) < limit for t in running)

    async def probe(self) -> bool:
        """Ask for the newest line of each task (non-follow, ``tail=1``); if one of them was
        never delivered on the follow stream, the stream hangs: cut it so ``run`` resumes.

        Returns True when a hang was found. Empty probes back off (up to the maximum).
        """
        self.probes += 1
        start_wall = self.wall_ns()
        margin = self.options.lookback_ns // 2
        # Lines an earlier probe saw on the engine, too fresh then to judge: still not
        # delivered once they are old enough, the stream hangs. (For a task printing faster
        # than ``margin`` a tail=1 answer is always too fresh, so this is how its hang shows.)
        old_enough = self.clock() - margin / NS_PER_S
        late = {t for t, (ts, at) in self._suspects.items()
                if at <= old_enough and (self.dedupe.last_ns(t) or 0) < ts}
        self._suspects = {t: v for t, v in self._suspects.items()
                          if t not in late and (self.dedupe.last_ns(t) or 0) < v[0]}
        if late:
            self._cut_hung(late)
            return True
        newest = max((self.dedupe.last_ns(t) or 0 for t in self.task_seen_s), default=0)
        since = newest or (start_wall - int(self.options.stall_s * NS_PER_S) * 4)
        params = {
            "stdout": "1",
            "stderr": "1",
            "details": "1",
            "timestamps": "1",
            "follow": "0",
            "tail": "1",
            "since": format_since(since),
        }
        hung = failed = False
        missed: set[str] = set()
        try:
            async with asyncio.timeout(15):
                async with self.client.stream(
                    "GET", f"services/{self.service.id}/logs", params
                ) as resp:
                    body = await resp.read()
        except (TimeoutError, *_STREAM_ERRORS):
            body = b""
            failed = True
        decoder = FrameDecoder(raw=self.service.tty)
        seen_at = self.clock()
        for frame in decoder.feed(body) + decoder.flush():
            rec = parse_payload(frame.payload, timestamps=True, details=True)
            if frame.stream == DAEMON:
                self._note_unavailable(rec.message.decode("utf-8", "replace"))
                continue
            task_id = rec.details.get(SWARM_TASK_ID, "")
            last = self.dedupe.last_ns(task_id)
            if not rec.ts_ns or (last is not None and rec.ts_ns <= last):
                continue
            # Only lines old enough that they cannot still be in flight on the stream; a
            # fresher one is checked again by the next probe.
            if rec.ts_ns < start_wall - margin:
                missed.add(task_id)
            else:
                self._suspects.setdefault(task_id, (rec.ts_ns, seen_at))
        hung = bool(missed)
        now = self.clock()
        if hung:
            self._cut_hung(missed)
        elif self._suspects:
            self.probe_interval_s = self.options.stall_s
            self.next_probe_s = now + 2 * margin / NS_PER_S  # once they are old enough
            return False
        elif failed:
            # No answer says nothing about the stream (a hung manager): ask again soon, so
            # a stream that stays hung once it answers again is found within stall_s.
            self.probe_interval_s = self.options.stall_s
        else:
            self.probe_interval_s = min(
                self.probe_interval_s * 2, self.options.max_probe_interval_s
            )
        self.next_probe_s = now + self.probe_interval_s
        return hung

    def _cut_hung(self, task_ids: Collection[str]) -> None:
        """The stream missed lines of these tasks: cut it, re-read from their last lines."""
        floor = self.catch_up_since(task_ids)
        if floor is not None:
            self._floor_ns = floor if self._floor_ns is None else min(self._floor_ns, floor)
        self._suspects.clear()
        self._hung = True
        resp_now = self._resp
        if resp_now is not None:
            resp_now.close()  # the read loop ends; run() resumes with since=
        self.probe_interval_s = self.options.stall_s
        self.next_probe_s = self.clock() + self.probe_interval_s


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EngineError):
        if exc.status is not None and exc.status != 900:
            return f"engine error {exc.status}: {exc}"
        return str(exc)
    if isinstance(exc, aiodocker.DockerError):
        return f"engine error {exc.status}: {exc.message}"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class LogSession:
    """Follows a selection of services into one bounded ring; health per stream.

    Owned by the app (the log screen asks it to start/stop); ``swarmtui logs`` uses one with
    its own sink. With ``client=None`` nothing is followed: lines come from :meth:`ingest`
    (tests, screenshots).
    """

    def __init__(
        self,
        client: EngineClient | None,
        store: SwarmStore,
        *,
        capacity: int = 10_000,
        options: FollowOptions = FollowOptions(),
        sink: LineSink | None = None,
        clock: Callable[[], float] = time.monotonic,
        watchdog_s: float = 1.0,
    ) -> None:
        self.client = client
        self.store = store
        self.ring = LogRing(capacity)
        self.options = options
        self.targets = LogTargets()
        self.clock = clock
        self.watchdog_s = watchdog_s
        self.version = 0  # bumped on every ingest (the UI polls it)
        self.health_version = 0  # bumped when any stream's state changes
        self.generation = 0
        self.names = NameResolver(client, store)
        self.followers: dict[str, LogFollower] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._dropped: Counter[str] = Counter()
        self._static_health: dict[str, StreamHealth] = {}
        self._sink = sink
        self._unsubscribe: Callable[[], None] | None = None
        self._seen_services: object = None
        self._seen_tasks: object = None
        self._seen_nodes: object = None
        self._node_states: dict[str, str] = {}  # node id -> its state in the last snapshot
        self._node_left_ns: dict[str, int] = {}  # node id -> wall clock when it left ready
        self._lost_ns: int | None = None  # wall clock when the engine connection was lost
        self.wall_ns: Callable[[], int] = time.time_ns
        self._running: dict[str, list[Task]] = {}
        self._wanted: dict[str, list[Task]] = {}
        self._watchdog: asyncio.Task[None] | None = None
        self._probes: set[asyncio.Task[bool]] = set()
        self._stopping: set[asyncio.Task[None]] = set()
        self._ended = asyncio.Event()
        # The backlog being gathered (None: lines go straight to the ring or sink).
        self._held: list[LogLine] | None = None
        self._held_since: float | None = None  # when its first follower started
        self._held_dropped = 0  # backlog lines never stored: more than the ring holds
        self._cut_total = 0  # the same, never reset (see lines_seen)
        self._gatherer: asyncio.Task[None] | None = None
        self._released = asyncio.Event()
        self.intake = IntakeGate()  # held by the UI while it answers a key
        self.active = False

    # -- control -----------------------------------------------------------------------
    def start(
        self,
        targets: LogTargets | None = None,
        options: FollowOptions | None = None,
        *,
        clear: bool = True,
    ) -> None:
        """(Re)start following ``targets`` with ``options``; by default the ring is cleared."""
        self._stop_followers()
        if targets is not None:
            self.targets = targets
        if options is not None:
            self.options = options
        if clear:
            self.ring.clear()
            self._dropped.clear()
            self._held_dropped = 0
            self._static_health.clear()
        self.generation += 1
        self.version += 1
        self.names = NameResolver(self.client, self.store)
        self.active = True
        self._hold_backlog()
        if self._unsubscribe is None:
            self._unsubscribe = self.store.subscribe(self._on_state)
        self._seen_services = None
        self._on_state(self.store.state)
        if self.client is not None and self.options.follow and self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch(), name="swarmtui-logs-watchdog")

    async def stop(self) -> None:
        """Stop every stream and the watchdog (the ring keeps its lines)."""
        self.active = False
        self._held = None  # an unfinished backlog is dropped, not shown half-merged
        self._released.set()
        self.intake.release()  # and the collector resumes, if a key's hold paused it
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for sid in list(self._tasks):
            self._stop_one(sid, keep_health=True, detail="stopped")
        watchdog, self._watchdog = self._watchdog, None
        pending: list[asyncio.Task[Any]] = [*self._stopping, *self._probes]
        gatherer, self._gatherer = self._gatherer, None
        if gatherer is not None:
            pending.append(gatherer)
        if watchdog is not None:
            watchdog.cancel()
            pending.append(watchdog)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _stop_followers(self) -> None:
        for sid in list(self._tasks):
            self._stop_one(sid, keep_health=False)

    def _stop_one(self, sid: str, *, keep_health: bool, detail: str = "") -> None:
        task = self._tasks.pop(sid, None)
        follower = self.followers.pop(sid, None)
        if task is not None:
            task.cancel()
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)
        if keep_health and follower is not None:
            self._static_health[sid] = replace(
                follower.health(), state=ENDED, detail=detail or follower.detail
            )
        self._changed()

    # -- store -------------------------------------------------------------------------
    def _on_state(self, state: ClusterState) -> None:
        if state.nodes is not self._seen_nodes:
            self._seen_nodes = state.nodes
            back = {nid for nid, n in state.nodes.items()
                    if n.state == "ready" and self._node_states.get(nid, "ready") != "ready"}
            for nid, n in state.nodes.items():
                if n.state != "ready" and self._node_states.get(nid, "ready") == "ready":
                    self._node_left_ns[nid] = self.wall_ns()
            self._node_states = {nid: n.state for nid, n in state.nodes.items()}
            if back:
                for returning in self.followers.values():
                    returning.nodes_returned(back)
                self._rejoin_nodes(state, back)
                self._changed()
        self._watch_connection(state)
        if state.tasks is not self._seen_tasks:
            self._seen_tasks = state.tasks
            running: dict[str, list[Task]] = {}
            wanted: dict[str, list[Task]] = {}
            for t in state.tasks.values():
                if t.state == "running":
                    running.setdefault(t.service_id, []).append(t)
                if t.wants_running:
                    wanted.setdefault(t.service_id, []).append(t)
            self._running, self._wanted = running, wanted
        if not self.active or state.services is self._seen_services:
            return
        self._seen_services = state.services
        if self.client is None:
            return
        chosen = {s.id: s for s in select_services(state, self.targets)}
        for sid in list(self._tasks):
            if sid not in chosen:
                self._stop_one(sid, keep_health=True, detail="service removed")
        for sid, svc in chosen.items():
            follower = self.followers.get(sid)
            if follower is not None:
                follower.service = svc  # renamed, re-imaged: the stream itself carries on
                continue
            self._static_health.pop(sid, None)
            self._start_one(svc)

    def _rejoin_nodes(self, state: ClusterState, back: Collection[str]) -> None:
        """Nodes back (down, then ready): the follow streams of services with tasks there
        never carry those nodes' lines again (see :meth:`LogFollower.rejoin`); re-open them,
        re-reading those tasks from their last delivered line."""
        left = [self._node_left_ns.pop(nid, 0) for nid in back]
        bound = min(left) - REJOIN_SLACK_NS if all(left) else 0
        names = sorted(self.names.node_name(nid) for nid in back)
        why = f"node {names[0]} back" if len(names) == 1 else f"{len(names)} nodes back"
        for sid, follower in self.followers.items():
            there = [t.id for t in state.tasks.values()
                     if t.service_id == sid and t.node_id in back]
            if there:
                follower.rejoin(there, why, bound)

    def _watch_connection(self, state: ClusterState) -> None:
        """The engine connection lost, then back (a manager restarted or hung): the follow
        streams may have lost every other node for good (see :meth:`LogFollower.rejoin`);
        re-open them all, re-reading each task from its last delivered line."""
        conn = state.connection
        if conn.lost:
            if self._lost_ns is None:
                self._lost_ns = self.wall_ns()
            return
        if conn.status != "connected" or self._lost_ns is None:
            return
        bound, self._lost_ns = self._lost_ns - REJOIN_SLACK_NS, None
        for sid, follower in self.followers.items():
            tasks = [t.id for t in state.tasks.values() if t.service_id == sid]
            follower.rejoin(tasks, "engine back", bound)

    def _start_one(self, svc: Service) -> None:
        assert self.client is not None
        gen = self.generation

        def sink(lines: Sequence[LogLine]) -> None:
            if gen == self.generation:  # a follower cancelled by a restart stays silent
                self.ingest(lines)

        follower = LogFollower(
            self.client,
            svc,
            self.names,
            sink,
            self.options,
            on_change=self._changed,
            clock=self.clock,
            gate=self.intake,
        )
        if self._held is not None and self._held_since is None:
            self._held_since = self.clock()
        if self._sink is None:
            follower.next_seq = lambda: self.ring.next_seq
        self.followers[svc.id] = follower
        task = asyncio.create_task(follower.run(), name=f"swarmtui-logs:{svc.name}")
        self._tasks[svc.id] = task
        task.add_done_callback(lambda _t: self._changed())
        self._changed()

    def _changed(self) -> None:
        self.health_version += 1
        self._release_if_complete()
        if self.all_ended:
            self._ended.set()

    # -- the backlog -------------------------------------------------------------------
    def _hold_backlog(self) -> None:
        """Gather what the streams send first and merge it by time (:func:`merge_by_time`,
        as ``swarmtui logs`` prints): each stream delivers its history in one go, so shown as
        it came the backlog would be grouped by service. Lines after it keep arrival order."""
        if self.client is None:
            self._released.set()  # lines fed by hand (tests) are shown as they come
            return
        self._held = []
        self._held_since = None
        self._released.clear()
        if self.options.follow and self._gatherer is None:
            self._gatherer = asyncio.create_task(self._gather(), name="swarmtui-logs-backlog")

    def backlog_complete(self) -> bool:
        """True when every stream has delivered its backlog (or waiting longer is pointless)."""
        if self._held is None:
            return True
        if not self.options.follow:
            return self.all_ended  # a one-off read: the whole of it is the backlog
        now = self.clock()
        if self._held_since is not None and now - self._held_since >= BACKLOG_MAX_S:
            return True
        if self.store.state.services_listed_ns is None or self._seen_services is None:
            return False  # which services to follow is not known yet
        return all(f.backlog_delivered(now) for f in self.followers.values())

    def _release_if_complete(self) -> None:
        if self._held is not None and self.backlog_complete():
            self._release()

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        if held:
            self._store(merge_by_time(held))
        self._released.set()

    def _bound_held(self, held: list[LogLine]) -> None:
        """A backlog bigger than the ring: keep only the newest lines by time, the ones the
        ring would keep (counted as dropped). The command prints everything: no holding."""
        if self._sink is not None:
            self._release()
            return
        merged = merge_by_time(held)
        cut = len(merged) - self.ring.capacity
        self._dropped.update(line.service_id for line in merged[:cut])
        self._held_dropped += cut
        self._cut_total += cut
        self._held = merged[cut:]

    async def _gather(self) -> None:
        try:
            while self._held is not None:
                await asyncio.sleep(0.05)
                self._release_if_complete()
        finally:
            self._gatherer = None

    async def wait_backlog(self) -> None:
        """Until the backlog of the last :meth:`start` is in the ring (screenshots wait)."""
        await self._released.wait()

    # -- lines -------------------------------------------------------------------------
    def clear(self) -> None:
        """Forget the lines shown so far (``c`` on the log screen); streams keep running and
        new lines arrive as before. The pane notices through ``version``."""
        self.ring.clear()
        self.version += 1

    def ingest(self, lines: Sequence[LogLine]) -> None:
        """Add a batch (followers call this; tests may too)."""
        if not lines:
            return
        held = self._held
        if held is not None:
            held.extend(lines)
            if self.options.follow and len(held) > 2 * self.ring.capacity:
                self._bound_held(held)
            return
        self._store(lines)

    def _store(self, lines: Sequence[LogLine]) -> None:
        if self._sink is not None:
            self._sink(lines)
            self.version += 1
            return
        ring = self.ring
        over = len(ring) + len(lines) - ring.capacity
        if over > 0:
            # Count evictions per service so the strip can say whose lines were dropped.
            evicted = ring.slice(ring.first_seq, ring.first_seq + over)
            if over > len(evicted):
                evicted = [*evicted, *lines[: over - len(evicted)]]
            self._dropped.update(line.service_id for line in evicted)
        ring.extend(lines)
        self.version += 1

    # -- health ------------------------------------------------------------------------
    def report(self, health: StreamHealth) -> None:
        """Set a stream's health by hand (streams fed through :meth:`ingest`)."""
        self._static_health[health.service_id] = health
        self._changed()

    def health(self, now_s: float | None = None) -> list[StreamHealth]:
        """Every stream's health, sorted by service name."""
        now = self.clock() if now_s is None else now_s
        state = self.store.state
        out: list[StreamHealth] = []
        for sid, follower in self.followers.items():
            h = self._per_task(state, sid, follower.health(now), follower.unavailable_nodes)
            out.append(replace(h, dropped=self._dropped.get(sid, 0)))
        for sid, h in self._static_health.items():
            if sid not in self.followers:
                out.append(replace(h, dropped=max(h.dropped, self._dropped.get(sid, 0))))
        return sorted(out, key=lambda h: (h.service_name, h.service_id))

    def _per_task(
        self, state: ClusterState, sid: str, h: StreamHealth, unavailable: Collection[str]
    ) -> StreamHealth:
        """A service's stream, judged per task: a task that should run on a node the manager
        cannot reach (down, or named by the daemon) delivers nothing while the service's
        other tasks keep flowing. Counts them, so one down node does not condemn a service."""
        if h.state not in (LIVE, IDLE, NODE_UNAVAILABLE):
            return h  # the stream itself is the problem (reconnecting, stalled, …)
        wanted = [t for t in self._wanted.get(sid, ()) if t.node_id]
        down: dict[str, tuple[str, str]] = {}  # node id -> (name, why)
        for t in wanted:
            assert t.node_id is not None
            node = state.nodes.get(t.node_id)
            name = node.name if node is not None else self.names.node_name(t.node_id)
            if node is not None and node.state not in ("ready", "unknown"):
                down[t.node_id] = (name, f"node {name} is {node.state}")
            elif t.node_id in unavailable:
                down[t.node_id] = (name, f"node {name} is not available")
        cut = sum(1 for t in wanted if t.node_id in down)
        if not cut:
            if h.state == NODE_UNAVAILABLE and wanted and unavailable:
                # The daemon names nodes none of the tasks that should run is on (theirs
                # were moved or shut down when the node went): every wanted task streams.
                names = tuple(sorted({self.names.node_name(n) for n in unavailable}))
                return replace(h, tasks=len(wanted), unreachable=0, nodes_down=names)
            return h  # tasks not known yet: the daemon's word as is
        names = tuple(sorted(name for name, _ in down.values()))
        detail = next(iter(down.values()))[1] if len(down) == 1 else f"{len(down)} nodes down"
        return replace(h, state=NODE_UNAVAILABLE, detail=detail, tasks=len(wanted),
                       unreachable=cut, nodes_down=names)

    @property
    def dropped(self) -> int:
        """Lines evicted from the ring, and backlog lines too many to ever enter it."""
        return self.ring.dropped + self._held_dropped

    @property
    def lines_seen(self) -> int:
        """Lines the streams delivered that were stored or counted as dropped, since the
        session was made: the ring's total does not count the lines of a backlog too big for
        the ring, cut while it is gathered (they never enter it), so a flood read from the
        start is all here once ``lines_seen`` reaches its size (benchmarks and tests)."""
        return self.ring.total + self._cut_total

    @property
    def all_ended(self) -> bool:
        """True when no stream is running any more (non-follow reads are complete)."""
        if not self.active:
            return False
        if self.client is None:
            return True
        return all(t.done() for t in self._tasks.values()) and (
            bool(self._tasks) or self._seen_services is not None
        )

    async def wait_ended(self) -> None:
        """Until every stream has ended (non-follow reads), the merged lines delivered."""
        self._release_if_complete()
        while not self.all_ended:
            self._ended.clear()
            if self.all_ended:
                return
            await self._ended.wait()

    # -- watchdog ----------------------------------------------------------------------
    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.watchdog_s)
            now = self.clock()
            for sid, follower in list(self.followers.items()):
                if len(self._probes) >= 4:
                    break  # a few probes at a time: they ask every node of the swarm
                if follower.probe_due(now, self._running.get(sid, ())):
                    follower.next_probe_s = now + follower.probe_interval_s
                    task = asyncio.create_task(follower.probe())
                    self._probes.add(task)
                    task.add_done_callback(self._probes.discard)


async def task_log_tail(client: EngineClient, task_id: str, lines: int = 10,
                        tty: bool = False, timeout: float = 15.0) -> list[tuple[str, str]]:
    """The last ``lines`` lines of one task, sanitised, as ``(stream, text)`` pairs (for the
    task details; the log pane follows whole services)."""
    params = {"stdout": "1", "stderr": "1", "follow": "0", "tail": str(lines),
              "timestamps": "0", "details": "0"}
    try:
        async with asyncio.timeout(timeout):
            async with client.stream("GET", f"tasks/{task_id}/logs", params) as resp:
                data = await resp.read()
    except TimeoutError as exc:
        raise EngineError(f"the logs of task {task_id[:12]} did not come in {timeout:.0f}s") \
            from exc
    decoder = FrameDecoder(raw=tty)
    frames = decoder.feed(data) + decoder.flush()
    out: list[tuple[str, str]] = []
    for frame in frames:
        record = parse_payload(frame.payload, timestamps=False, details=False)
        out.append((stream_name(frame.stream), sanitize(record.message, max_chars=500)))
    return out[-lines:]
