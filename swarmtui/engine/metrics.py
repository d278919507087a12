"""Engine metrics: every node's Prometheus endpoint (``dockerd --metrics-addr``), read into
the pure :class:`~swarmtui.model.metrics.MetricsBoard`.

A node whose endpoint is configured (``--metrics NODE=HOST:PORT``, ``[metrics]`` in
engines.toml) is read directly over HTTP. The others are read through a node probe
(:mod:`swarmtui.engine.probe`) on the *host network*: its task shares the node's network
namespace, so ``wget http://127.0.0.1:9323/metrics`` reaches a daemon started with
``--metrics-addr 127.0.0.1:9323`` (the usual, unexposed setting). The probe is an operation
(the screens run :class:`~swarmtui.ops.probe.ProbeOperation` with :data:`PROBE_REQUESTS` and
:meth:`MetricsFleet.probe_config`); its answers come back here with :meth:`apply_probe`.

The text is parsed with ``prometheus_client`` (pure Python) into frozen samples; the model
picks the figures. Nothing here runs on its own: the view calls :meth:`read_direct` on its
period, only while it is shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from swarmtui.engine.probe import ProbeConfig, ProbeRun
from swarmtui.model.metrics import (
    HOW_TO_ENABLE,
    MetricsBoard,
    Sample,
    figures,
    record,
    with_nodes,
)
from swarmtui.model.probe import ProbeAnswerError, ProbeRequest, answer_text

T = TypeVar("T")
LOOPBACK_METRICS_URL = "http://127.0.0.1:9323/metrics"
METRICS_KEY = "metrics"
PROBE_REQUESTS = (ProbeRequest.loopback(METRICS_KEY, LOOPBACK_METRICS_URL),)
DIRECT_TIMEOUT_S = 5.0
PROBE_TIMEOUT_S = 30.0
MAX_BYTES = 8 << 20  # a manager's text is ~210 KB (grpc series); far more is not metrics


class MetricsError(ValueError):
    """Text that is not Prometheus exposition (one line)."""


def parse_samples(text: str) -> tuple[Sample, ...]:
    """Every sample of a Prometheus text exposition (raises MetricsError, one line)."""
    try:
        return tuple(
            Sample(s.name, tuple(sorted(s.labels.items())), float(s.value))
            for family in text_string_to_metric_families(text)
            for s in family.samples
        )
    except (ValueError, TypeError, IndexError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MetricsError(f"not Prometheus metrics: {first[:200]}") from None


async def fetch_direct(url: str, timeout: float = DIRECT_TIMEOUT_S) -> str:
    """GET ``url`` (a node's ``--metrics-addr``); raises MetricsError with one line."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as s, \
                s.get(url) as resp:
            body = await resp.content.read(MAX_BYTES)
            if resp.status >= 300:
                raise MetricsError(f"{url}: HTTP {resp.status}")
            return body.decode("utf-8", "replace")
    except aiohttp.ClientConnectorError as exc:
        raise MetricsError(f"cannot reach {url}: {exc.os_error or exc}") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise MetricsError(f"{url}: {str(exc) or type(exc).__name__}") from None


class MetricsFleet:
    """The metrics of every swarm node: the board, the configured endpoints, the probe's
    settings. ``reads`` counts the endpoints read and probe answers taken (tests check that
    nothing is read while the view is hidden)."""

    def __init__(self, urls: Mapping[str, str], probe: ProbeConfig, *,
                 clock: Callable[[], float] = time.time,
                 fetch: Callable[[str], Awaitable[str]] = fetch_direct) -> None:
        self.urls = dict(urls)
        self.probe = probe
        self.clock = clock
        self.fetch = fetch
        self.board = MetricsBoard()
        self.reads = 0
        self.probe_runs = 0
        self._in_flight: set[asyncio.Future[Any]] = set()

    def probe_config(self) -> ProbeConfig:
        """The probe's settings for metrics: host network (the node's loopback), no socket."""
        return replace(self.probe, host_network=True,
                       timeout_s=min(self.probe.timeout_s, PROBE_TIMEOUT_S))

    def set_nodes(self, nodes: Sequence[tuple[str, str]]) -> MetricsBoard:
        """The swarm's ``(hostname, role)`` nodes; a swarm-less engine: none. A node with a
        configured endpoint stays (after them) when the swarm does not list it, or not yet:
        its readings are read directly and kept (the first listing may come mid-read)."""
        listed = {hostname for hostname, _ in nodes}
        roles = {n.hostname: n.role for n in self.board.nodes}
        extra = [(h, roles.get(h, "worker")) for h in self.urls if h not in listed]
        self.board = with_nodes(self.board, [*nodes, *extra])
        return self.board

    def direct_hostnames(self) -> list[str]:
        return [n.hostname for n in self.board.nodes if n.hostname in self.urls]

    async def read_direct(self) -> MetricsBoard:
        """Read every node with a configured endpoint (nodes not in the swarm too)."""
        for hostname, url in self.urls.items():
            self.reads += 1
            now = self.clock()
            try:
                got = figures(parse_samples(await self.fetch(url)))
            except MetricsError as exc:
                self.board = record(self.board, hostname, now, source=url, error=str(exc))
            else:
                self.board = record(self.board, hostname, now, source=url, got=got)
        return self.board

    def apply_probe(self, run: ProbeRun, not_covered: Iterable[tuple[str, str]] = ()
                    ) -> MetricsBoard:
        """The probe's answers (and why nodes were not covered) into the board."""
        self.probe_runs += 1
        now = self.clock()
        for answer in run.nodes:
            self.reads += 1
            host = answer.node.hostname
            raw = answer.answers.get(METRICS_KEY)
            if answer.error is not None or raw is None:
                self.board = record(self.board, host, now, source="probe",
                                    error=answer.error or "no answer from the probe")
                continue
            try:
                got = figures(parse_samples(answer_text(raw, LOOPBACK_METRICS_URL)))
            except (ProbeAnswerError, MetricsError) as exc:
                text = str(exc)
                if "502" in text:  # wget could not connect: no --metrics-addr there
                    text = f"no metrics endpoint at {LOOPBACK_METRICS_URL}: {HOW_TO_ENABLE}"
                self.board = record(self.board, host, now, source="probe", error=text)
            else:
                self.board = record(self.board, host, now, source="probe", got=got)
        for host, why in not_covered:
            self.board = record(self.board, host, now, source="probe",
                                error=f"not covered by the probe: {why}")
        return self.board

    def keep(self, probe: Awaitable[T]) -> asyncio.Future[T]:
        """Run a probe so that nothing cancels it halfway (it removes its service in a
        ``finally``, which a cancelled worker or a closing app must not cut short): the
        caller awaits the returned future under :func:`asyncio.shield`, :meth:`stop` waits
        for it."""
        task = asyncio.ensure_future(probe)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return task

    async def stop(self, timeout: float = PROBE_TIMEOUT_S + 30.0) -> None:
        """Wait for a probe still running (its service is removed when it ends)."""
        if self._in_flight:
            with contextlib.suppress(Exception):
                await asyncio.wait(set(self._in_flight), timeout=timeout)

    def set_reading(self, reading: bool, note: str = "") -> MetricsBoard:
        self.board = replace(self.board, reading=reading, note=note)
        return self.board
