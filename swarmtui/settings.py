"""Every user setting, read once, in one frozen object.

Sources, in this precedence: command-line flags, then environment variables, then the TOML
config file (``$XDG_CONFIG_HOME/swarmtui/engines.toml``: ``[engines]``, ``[probe]``, ``[kiosk]``).
:meth:`Settings.load` is the one place they are read; every malformed value raises
:class:`~swarmtui.validate.InputError` with one line (the parsers live in
:mod:`swarmtui.validate` and, for engine addresses, :mod:`swarmtui.engine.disk` /
:mod:`swarmtui.engine.target`).

The engine the dashboard talks to (``--host``, ``--context``, then ``DOCKER_HOST``,
``DOCKER_CONTEXT``, ``DOCKER_TLS_VERIFY`` …) is chosen by
:func:`swarmtui.engine.target.resolve_target`, like the docker CLI; Settings keeps the two
flags and the environment it was loaded with so that choice sees the same values.

What a command does not use is not read (:class:`Scope`): ``swarmtui logs`` does not fail on
a broken engines.toml, ``swarmtui df`` not on a malformed ``SWARMTUI_LOG_LINES``.

May import: the standard library, :mod:`swarmtui.validate`, and -- inside :meth:`load`, so
that ``--help`` stays light -- :mod:`swarmtui.engine.disk` and :mod:`swarmtui.sim.scenarios`.
Not the CLI, the app or the screens.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from swarmtui import validate
from swarmtui.validate import InputError

if TYPE_CHECKING:
    from swarmtui.engine.disk import EngineSpec

NO_COLOR_ENV = "NO_COLOR"
SSH_ENV = ("SSH_CONNECTION", "SSH_TTY")  # set by sshd in a login's environment


@dataclass(frozen=True, slots=True)
class Scope:
    """Which settings a command reads (and so which malformed values can stop it)."""

    engines: bool = True
    """The extra engines: ``--engine`` flags and the config file."""
    app_env: bool = True
    """The dashboard's environment variables (``SWARMTUI_LOG_LINES``)."""


EVERYTHING = Scope()

KIOSK_VIEWS = ("grid", "services", "updates", "logs")
KIOSK_SECONDS = 15.0
KIOSK_REDACT = (r"(?i)(pass|secret|token|key|auth|credential)",)


@dataclass(frozen=True, slots=True)
class KioskSettings:
    """``--kiosk``: the wall display (``[kiosk]`` in engines.toml)."""

    views: tuple[str, ...] = KIOSK_VIEWS
    """The views shown in turn (registry names)."""
    seconds: float = KIOSK_SECONDS
    """How long each view stays."""
    redact: tuple[str, ...] = KIOSK_REDACT
    """Regular expressions: a name (label, variable, flag) matching one has its value masked."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What the user asked for, validated. Build it with :meth:`load`."""

    host: str | None = None
    """``--host``/``-H``: the engine address (None: ``--context``, then ``DOCKER_HOST`` …)."""
    context: str | None = None
    """``--context``/``-c``: the docker context (None: see :attr:`host`)."""
    read_only: bool = False
    """``--read-only``: hide and refuse every action that changes the swarm."""
    demo: str | None = None
    """The simulated scenario (``--demo-scenario NAME``, ``--demo`` alone is ``"demo"``);
    None means a real engine."""
    extra_engines: tuple[EngineSpec, ...] = ()
    """The ``--engine NAME=URL`` flags, parsed, in the order given."""
    config_path: Path | None = None
    """The config file (``$XDG_CONFIG_HOME/swarmtui/engines.toml``, ``~/.config`` when unset);
    None when the command does not read it."""
    config_engines: tuple[EngineSpec, ...] = ()
    """The ``[engines]`` table of :attr:`config_path` (empty when absent)."""
    log_lines: int | None = None
    """``SWARMTUI_LOG_LINES``: lines the log pane keeps (None: its default)."""
    probe_image: str = "docker:cli"
    """The node probes' image (``--probe-image``, ``SWARMTUI_PROBE_IMAGE``, ``[probe] image``):
    a docker CLI and a POSIX sh."""
    probe_socket: str = "/var/run/docker.sock"
    """The engine socket on every node, as the probe mounts it (``--probe-socket``,
    ``SWARMTUI_PROBE_SOCKET``, ``[probe] socket``); service templates allowed."""
    kiosk: KioskSettings | None = None
    """``--kiosk``: the wall display (implies :attr:`read_only`); None for the dashboard."""
    metrics_urls: Mapping[str, str] = field(default_factory=dict)
    """Node hostname -> its Prometheus URL (``dockerd --metrics-addr``), read directly by the
    metrics view: ``--metrics NODE=HOST:PORT`` flags over ``[metrics]`` in engines.toml.
    Nodes not listed are read through a node probe on the host network."""
    no_color: bool = False
    """``NO_COLOR`` is set and non-empty (https://no-color.org): no colour on stdout."""
    low_bandwidth: bool = False
    """``--low-bandwidth``/``--ssh``, or ``SSH_CONNECTION``/``SSH_TTY`` set: the terminal is
    at the end of a network link, so the screens repaint less often (fewer bytes)."""
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    """The environment loaded from; engine selection reads its ``DOCKER_*`` variables."""

    @property
    def engines(self) -> tuple[EngineSpec, ...]:
        """Every extra engine: the flags' first, then the config file's."""
        return self.extra_engines + self.config_engines

    @classmethod
    def load(cls, args: argparse.Namespace, env: Mapping[str, str],
             scope: Scope = EVERYTHING) -> Settings:
        """The settings from the parsed global flags, ``env`` and the config file (raises
        InputError, one line, for the first malformed value)."""
        extra: tuple[EngineSpec, ...] = ()
        path: Path | None = None
        from_file: tuple[EngineSpec, ...] = ()
        probe: dict[str, str] = {}
        kiosk: KioskSettings | None = None
        want_kiosk = bool(getattr(args, "kiosk", False))
        metrics: dict[str, str] = {}
        if scope.engines:
            from swarmtui.engine.disk import (
                config_path,
                engines_from_config,
                kiosk_from_config,
                metrics_from_config,
                parse_engine_flag,
                probe_from_config,
            )

            extra = tuple(parse_engine_flag(text, env) for text in args.engine or ())
            path = config_path(env)
            from_file = tuple(engines_from_config(path, env))
            _check_unique_names(extra + from_file)
            probe = probe_from_config(path)
            metrics = metrics_from_config(path)
            metrics.update(_metrics_flag(t) for t in getattr(args, "metrics", None) or ())
            if want_kiosk:
                kiosk = KioskSettings(**kiosk_from_config(path))
        if want_kiosk and kiosk is None:
            kiosk = KioskSettings()
        demo = _demo_scenario(args.demo_scenario, bool(args.demo))
        chosen = [f for f, v in (("--host", args.host), ("--context", args.context)) if v]
        if demo and chosen:  # it was silently ignored: the user thought they saw their swarm
            raise InputError(f"--demo shows a simulated swarm, not an engine: drop "
                             f"{' and '.join(chosen)} or --demo")
        image = _first(getattr(args, "probe_image", None), "--probe-image",
                       env.get(validate.PROBE_IMAGE_ENV), validate.PROBE_IMAGE_ENV,
                       validate.probe_image) or probe.get("image", "docker:cli")
        socket = _first(getattr(args, "probe_socket", None), "--probe-socket",
                        env.get(validate.PROBE_SOCKET_ENV), validate.PROBE_SOCKET_ENV,
                        validate.probe_socket) or probe.get("socket", "/var/run/docker.sock")
        return cls(
            host=args.host,
            context=args.context,
            read_only=bool(args.read_only) or kiosk is not None,  # a wall never changes
            demo=demo,
            extra_engines=extra,
            config_path=path,
            config_engines=from_file,
            log_lines=validate.log_lines(env) if scope.app_env else None,
            probe_image=image,
            probe_socket=socket,
            kiosk=kiosk,
            metrics_urls=metrics,
            no_color=bool(env.get(NO_COLOR_ENV)),
            low_bandwidth=bool(getattr(args, "low_bandwidth", False))
            or any(env.get(name) for name in SSH_ENV),
            env=env,
        )


def _first(flag: str | None, flag_name: str, env_value: str | None, env_name: str,
           check: Callable[[str, str], str]) -> str | None:
    """The flag's value, else the environment's (checked, naming where it came from)."""
    if flag is not None:
        return check(flag, flag_name)
    if env_value:
        return check(env_value, env_name)
    return None


def _metrics_flag(text: str) -> tuple[str, str]:
    """``--metrics NODE=HOST:PORT`` (or ``NODE=http://HOST:PORT/metrics``)."""
    node, sep, value = text.partition("=")
    where = f"--metrics {text!r}"
    if not sep or not node.strip():
        raise InputError(f"invalid {where}: use NODE=HOST:PORT, e.g. "
                         "node2=10.0.0.12:9323 (NODE is the swarm node's hostname)")
    node = validate.engine_name(node.strip(), where)
    return node, validate.metrics_url(value, f"--metrics {node}")


def _demo_scenario(name: str | None, demo: bool) -> str | None:
    """``--demo-scenario`` (implies ``--demo``) over ``--demo``'s default scenario."""
    if name is None:
        return "demo" if demo else None
    from swarmtui.sim.scenarios import BUILDERS  # the simulator loads only when asked

    if name not in BUILDERS:
        raise InputError(f"argument --demo-scenario: invalid choice: {name!r} "
                         f"(choose from: {', '.join(BUILDERS)}) (see `swarmtui --help`)")
    return name


def _check_unique_names(specs: Sequence[EngineSpec]) -> None:
    """Each engine needs its own name, across the flags and the config file."""
    from swarmtui.engine.disk import EngineSpecError

    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        where = sorted({s.source for s in specs if s.name in dupes})
        raise EngineSpecError(
            f"engine name(s) given twice: {', '.join(dupes)} (in {' and '.join(where)}); "
            "each engine needs its own name"
        )
