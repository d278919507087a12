"""Service spec changes, pure: validate what the user asked for and build the new spec.

Every function takes the spec the engine returned (``GET /services/{id}``: ``Spec``) and
returns a new one (the input is never changed), or raises ValueError with one line fit for
the screen. The operations layer (:mod:`swarmtui.ops.service`) reads and sends; this module
only decides. The engine wants the whole spec back on update (brief §5.4), so the new spec is
a deep copy with the one change made.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

from swarmtui.model.dockerfmt import parse_go_duration_ns
from swarmtui.model.imageref import image_ref_problem
from swarmtui.model.parse import parse_service
from swarmtui.model.specdiff import go_duration
from swarmtui.model.types import UpdateConfig

Spec = dict[str, Any]

ORDERS: Final = ("stop-first", "start-first")
FAILURE_ACTIONS: Final = ("pause", "continue", "rollback")
_WHOLE: Final = re.compile(r"^\+?[0-9]+$")
MAX_REPLICAS: Final = 2**64 - 1


def service_mode(spec: Mapping[str, Any]) -> str:
    """``replicated``, ``global``, ``replicated-job`` or ``global-job`` (as the model says)."""
    return parse_service({"Spec": spec}).mode


def _copy(spec: Mapping[str, Any]) -> Spec:
    return copy.deepcopy(dict(spec))


def _template(spec: Spec) -> Spec:
    template = spec.get("TaskTemplate")
    if not isinstance(template, dict):
        template = spec["TaskTemplate"] = {}
    return template


# -- scale ---------------------------------------------------------------------------------

def parse_replicas(text: str) -> int:
    """A replica count as typed: a whole number ≥ 0."""
    value = text.strip()
    if not _WHOLE.match(value):
        raise ValueError(f"replicas must be a whole number of 0 or more, not {value!r}")
    if int(value) > MAX_REPLICAS:  # the engine's field is a uint64: it would refuse the update
        raise ValueError(f"replicas must be at most {MAX_REPLICAS}, not {value!r}")
    return int(value)


def scale_refusal(mode: str, name: str) -> str | None:
    """Why a service of ``mode`` cannot be scaled (None: it can)."""
    if mode == "replicated":
        return None
    what = "a global service: it runs one task per node" if mode == "global" else (
        f"a {mode} service")
    return f"cannot scale {name}: it is {what}"


def scaled_spec(spec: Mapping[str, Any], replicas: int, name: str = "the service") -> Spec:
    if replicas < 0:
        raise ValueError(f"replicas must be a whole number of 0 or more, not {replicas}")
    refusal = scale_refusal(service_mode(spec), name)
    if refusal is not None:
        raise ValueError(refusal)
    new = _copy(spec)
    new["Mode"] = {**new.get("Mode", {}), "Replicated": {"Replicas": replicas}}
    return new


# -- image ---------------------------------------------------------------------------------

def current_image(spec: Mapping[str, Any]) -> str:
    return parse_service({"Spec": spec}).image


def image_spec(spec: Mapping[str, Any], image: str) -> Spec:
    problem = image_ref_problem(image)
    if problem is not None:
        raise ValueError(problem)
    new = _copy(spec)
    container = _template(new).setdefault("ContainerSpec", {})
    container["Image"] = image.strip()
    return new


# -- force update --------------------------------------------------------------------------

def forced_spec(spec: Mapping[str, Any]) -> Spec:
    """``docker service update --force``: a new ForceUpdate makes every task be replaced."""
    new = _copy(spec)
    template = _template(new)
    current = template.get("ForceUpdate", 0)
    template["ForceUpdate"] = (current if isinstance(current, int) else 0) + 1
    return new


# -- update config -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class UpdateConfigChange:
    """What to set in ``Spec.UpdateConfig``; None leaves a field as it is."""

    parallelism: int | None = None
    delay_ns: int | None = None
    monitor_ns: int | None = None
    order: str | None = None
    failure_action: str | None = None

    def __post_init__(self) -> None:
        if self.parallelism is not None and self.parallelism < 0:
            raise ValueError(f"parallelism must be 0 (all at once) or more, not "
                             f"{self.parallelism}")
        for label, ns in (("delay", self.delay_ns), ("monitor", self.monitor_ns)):
            if ns is not None and ns < 0:
                raise ValueError(f"{label} must not be negative, not {go_duration(ns)}")
        if self.order is not None and self.order not in ORDERS:
            raise ValueError(f"order must be {' or '.join(ORDERS)}, not {self.order!r}")
        if self.failure_action is not None and self.failure_action not in FAILURE_ACTIONS:
            raise ValueError(f"failure-action must be one of {', '.join(FAILURE_ACTIONS)}, "
                             f"not {self.failure_action!r}")

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


_CONFIG_KEYS: Final = {
    "parallelism": "parallelism", "delay": "delay_ns", "monitor": "monitor_ns",
    "order": "order", "failure-action": "failure_action", "failure_action": "failure_action",
}


def update_config_text(cfg: UpdateConfig) -> str:
    """The prompt's pre-filled line for the config in force (what the parser reads back)."""
    return (f"parallelism={cfg.parallelism} delay={go_duration(cfg.delay_ns)} "
            f"monitor={go_duration(cfg.monitor_ns)} order={cfg.order} "
            f"failure-action={cfg.failure_action}")


def parse_update_config(text: str) -> UpdateConfigChange:
    """``parallelism=1 delay=10s monitor=5s order=start-first failure-action=rollback``; any
    subset, in any order."""
    values: dict[str, Any] = {}
    for word in text.split():
        key, eq, raw = word.partition("=")
        field_name = _CONFIG_KEYS.get(key.strip().lower())
        if field_name is None or not eq:
            raise ValueError(f"unknown setting {word!r}: use parallelism=N delay=D monitor=D "
                             f"order=stop-first|start-first "
                             f"failure-action=pause|continue|rollback")
        if field_name == "parallelism":
            if not re.fullmatch(r"-?[0-9]+", raw):
                raise ValueError(f"parallelism must be a whole number, not {raw!r}")
            values[field_name] = int(raw)
        elif field_name in ("delay_ns", "monitor_ns"):
            ns = parse_go_duration_ns(raw)
            if ns is None:
                raise ValueError(f"{key} must be a duration such as 10s or 1m30s, not {raw!r}")
            values[field_name] = ns
        else:
            values[field_name] = raw.lower()
    change = UpdateConfigChange(**values)
    if change.empty:
        raise ValueError("nothing to change: give e.g. parallelism=2 delay=10s")
    return change


def update_config_spec(spec: Mapping[str, Any], change: UpdateConfigChange) -> Spec:
    """Set the changed fields. A spec without an UpdateConfig gets the whole config in force
    written out: a partial object would read as zeroes (parallelism 0 = all at once)."""
    new = _copy(spec)
    current = parse_service({"Spec": spec}).update_config
    wanted = {
        "Parallelism": (current.parallelism, change.parallelism),
        "Delay": (current.delay_ns, change.delay_ns),
        "Monitor": (current.monitor_ns, change.monitor_ns),
        "Order": (current.order, change.order),
        "FailureAction": (current.failure_action, change.failure_action),
    }
    existing = new.get("UpdateConfig")
    if not isinstance(existing, dict) or not existing:
        if all(new_value is None or new_value == old for old, new_value in wanted.values()):
            return new  # nothing differs from the defaults in force
        new["UpdateConfig"] = {
            "Parallelism": current.parallelism, "Delay": current.delay_ns,
            "FailureAction": current.failure_action, "Monitor": current.monitor_ns,
            "MaxFailureRatio": current.max_failure_ratio, "Order": current.order,
        }
    config = new["UpdateConfig"]
    for key, (old, value) in wanted.items():
        if value is not None and value != old:
            config[key] = value
    return new


# -- rollback ------------------------------------------------------------------------------

def rollback_target(previous: Mapping[str, Any] | None, name: str = "the service") -> Spec:
    """The spec a rollback returns to (``PreviousSpec``)."""
    if not previous:
        raise ValueError(f"cannot roll back {name}: it has no previous spec")
    return _copy(previous)
