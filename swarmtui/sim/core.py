"""The simulated manager's store: virtual clock, timers, raft-like index and the event ring.

Time only moves in :meth:`SimCore.advance_to`; everything that "takes time" is a timer on a
heap, so ``advance(10)`` and ten ``advance(1)`` calls produce the same store, byte for byte.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from typing import Any

from swarmtui.sim.objects import (
    LocalStore,
    Meta,
    SimNetwork,
    SimNode,
    SimSecret,
    SimService,
    SimTask,
)
from swarmtui.sim.util import NS, Json, Rng, not_found

EVENTS_LIMIT = 256  # moby daemon/events/events.go eventsLimit

Timer = tuple[int, int, Callable[..., None], tuple[Any, ...]]
EventListener = Callable[[Json], None]
TickListener = Callable[[int], None]


def fake_tls(rng: Rng) -> Json:
    body = rng.b64(330)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"
    return {
        "TrustRoot": pem,
        "CertIssuerSubject": "MBMxETAPBgNVBAMTCHN3YXJtLWNh",
        "CertIssuerPublicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + rng.b64(66)[:88],
    }


class SimCore:
    """State and plumbing shared by the orchestrator and the API surface."""

    def __init__(self, seed: int, now_ns: int) -> None:
        self.seed = seed
        self.rng = Rng(seed)
        self.now_ns = now_ns
        self.start_ns = now_ns
        self._index = 9
        self._last_stamp = 0
        self._timers: list[Timer] = []
        self._timer_seq = 0
        self.nodes: dict[str, SimNode] = {}
        self.services: dict[str, SimService] = {}
        self.tasks: dict[str, SimTask] = {}
        self.networks: dict[str, SimNetwork] = {}
        self.secrets: dict[str, SimSecret] = {}
        self.configs: dict[str, SimSecret] = {}
        self.events: deque[Json] = deque(maxlen=EVENTS_LIMIT)
        self.events_total = 0
        self._event_listeners: list[EventListener] = []
        self._tick_listeners: list[TickListener] = []
        self.local_node_id = ""  # the manager whose socket we are (leader)
        self.cluster_id = self.rng.swarm_id()
        self.cluster_created_ns = now_ns
        self.history_limit = 5  # Orchestration.TaskHistoryRetentionLimit
        self.changes = 0  # bumped on every store write (cheap "did anything change")
        # The leader's daemon: what sim.system, sim.inventory and sim.local serve besides the
        # store. Drawn from the rng after everything above, in this order (the seed's output).
        self.swarm_meta = Meta(self.cluster_id, 10, now_ns, now_ns)
        self.tls = fake_tls(self.rng)
        self.join_tokens = {
            "Worker": f"SWMTKN-1-{self.rng.token(50)}-{self.rng.token(25)}",
            "Manager": f"SWMTKN-1-{self.rng.token(50)}-{self.rng.token(25)}",
        }
        self.local_networks = {
            name: self.rng.hex64() for name in ("bridge", "docker_gwbridge", "host", "none")
        }
        self.local = LocalStore()  # the leader's non-task local objects
        self.daemon_id = ":".join(self.rng.token(4).upper() for _ in range(12))
        # What each node probe task printed (sim.probe), fixed at its first read.
        self.probe_logs: dict[str, list[str]] = {}

    # ------------------------------------------------------------------ clock & timers
    def stamp(self) -> int:
        """The time of a store write: now, nudged forward so writes never share a timestamp."""
        if self.now_ns <= self._last_stamp:
            self.now_ns = self._last_stamp + self.rng.between(20_000, 400_000)
        self._last_stamp = self.now_ns
        return self.now_ns

    def next_index(self) -> int:
        self._index += 1
        self.changes += 1
        return self._index

    def new_meta(self, object_id: str | None = None) -> Meta:
        ts = self.stamp()
        return Meta(object_id or self.rng.swarm_id(), self.next_index(), ts, ts)

    def touch(self, meta: Meta) -> int:
        """Record a write to an object: new version and UpdatedAt; returns the time."""
        ts = self.stamp()
        meta.version = self.next_index()
        meta.updated_ns = ts
        return ts

    def schedule(self, at_ns: int, fn: Callable[..., None], *args: Any) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (at_ns, self._timer_seq, fn, args))

    def after(self, delay_ns: int, fn: Callable[..., None], *args: Any) -> None:
        self.schedule(self.now_ns + delay_ns, fn, *args)

    def advance(self, seconds: float) -> None:
        """Move the virtual clock forward and run everything that falls due."""
        self.advance_to(self.now_ns + int(seconds * NS))

    def advance_to(self, target_ns: int) -> None:
        timers = self._timers
        while timers and timers[0][0] <= target_ns:
            at, _, fn, args = heapq.heappop(timers)
            if at > self.now_ns:
                self.now_ns = at
            fn(*args)
        if target_ns > self.now_ns:
            self.now_ns = target_ns
        for listener in tuple(self._tick_listeners):
            listener(self.now_ns)

    def next_timer_ns(self) -> int | None:
        return self._timers[0][0] if self._timers else None

    # ------------------------------------------------------------------ events
    def emit(
        self,
        type_: str,
        action: str,
        actor_id: str,
        attributes: dict[str, str],
        time_ns: int,
        scope: str = "swarm",
        legacy: bool = False,
        from_: str = "",
    ) -> None:
        """Append one event to the ring (and push it to live subscribers)."""
        event: Json = {}
        if legacy:  # container events on API < 1.52 carry status/id/from
            event["status"] = action
            event["id"] = actor_id
            if from_:
                event["from"] = from_
        event["Type"] = type_
        event["Action"] = action
        event["Actor"] = {"ID": actor_id, "Attributes": dict(sorted(attributes.items()))}
        event["scope"] = scope
        event["time"] = time_ns // NS
        event["timeNano"] = time_ns
        self.events.append(event)
        self.events_total += 1
        for listener in tuple(self._event_listeners):
            listener(event)

    def subscribe_events(self, listener: EventListener) -> Callable[[], None]:
        self._event_listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._event_listeners:
                self._event_listeners.remove(listener)

        return unsubscribe

    def subscribe_ticks(self, listener: TickListener) -> Callable[[], None]:
        self._tick_listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._tick_listeners:
                self._tick_listeners.remove(listener)

        return unsubscribe

    # ------------------------------------------------------------------ networks
    def networks_of(self, spec: Json) -> list[SimNetwork]:
        """The networks a service spec attaches to (ingress when it publishes ports); 404 for
        a network that does not exist."""
        out: list[SimNetwork] = []
        if ingress_ports(spec):
            out.extend(n for n in self.networks.values() if n.ingress)
        targets = spec.get("TaskTemplate", {}).get("Networks") or spec.get("Networks") or []
        for target in targets:
            ref = target.get("Target", "") if isinstance(target, dict) else ""
            if ref in ("host", self.local_networks["host"]):
                continue  # every node's own namespace (a probe on the host network): no overlay
            net = next((n for n in self.networks.values() if ref in (n.meta.id, n.name)), None)
            if net is None:
                raise not_found(f"network {ref} not found")
            out.append(net)
        return out


def ingress_ports(spec: Json) -> list[Json]:
    ep = spec.get("EndpointSpec")
    ports = ep.get("Ports") if isinstance(ep, dict) else None
    if not isinstance(ports, list):
        return []
    return [
        p for p in ports if isinstance(p, dict) and p.get("PublishMode", "ingress") == "ingress"
    ]
