"""Which engine to talk to, chosen the way the docker CLI chooses it.

Order (docker/cli ``resolveContextName`` + ``getServerHost``): ``--host`` (with ``--context``
it is an error, as in the CLI), ``--context``, ``DOCKER_HOST`` (TLS from ``DOCKER_TLS_VERIFY``
/ ``DOCKER_CERT_PATH``), ``DOCKER_CONTEXT``, the CLI config's ``currentContext``, then the
default socket. aiodocker alone lets a config file's context beat ``DOCKER_HOST``; this
module is why swarmtui does not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


class TargetError(Exception):
    """The engine selection itself is invalid (bad flag, unknown context, missing certs)."""


@dataclass(frozen=True, slots=True)
class TLSFiles:
    ca: str | None
    cert: str | None
    key: str | None
    verify: bool


@dataclass(frozen=True, slots=True)
class EngineTarget:
    """A resolved engine address plus where the choice came from (shown in errors/header)."""

    url: str
    source: str
    tls: TLSFiles | None = None
    context: str | None = None
    display: str | None = None  # what the header shows instead of the URL (e.g. for --demo)

    @property
    def label(self) -> str:
        if self.display:
            return self.display
        return f"{self.context} ({self.url})" if self.context else self.url


def _normalise(url: str) -> str:
    if "://" not in url:
        if url.startswith("/"):
            return f"unix://{url}"
        return f"tcp://{url}"
    return url


def _tls_from_env(env: Mapping[str, str]) -> TLSFiles | None:
    # The CLI turns TLS on for any non-empty DOCKER_TLS_VERIFY (aiodocker only for "1").
    verify = bool(env.get("DOCKER_TLS_VERIFY"))
    tls = verify or bool(env.get("DOCKER_TLS"))
    if not tls:
        return None
    cert_path = Path(env.get("DOCKER_CERT_PATH") or Path.home() / ".docker")
    files = {name: cert_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise TargetError(f"TLS is on but certificate files are missing: {', '.join(missing)}")
    return TLSFiles(str(files["ca"]), str(files["cert"]), str(files["key"]), verify)


def _from_context(name: str, source: str) -> EngineTarget:
    from docker.context import ContextAPI  # docker-py reads the CLI's context store for us

    if name == "default":
        return EngineTarget(url=DEFAULT_SOCKET, source=source, context="default")
    try:
        ctx = ContextAPI.get_context(name)
    except Exception as exc:  # a corrupt meta.json raises a bare Exception in docker-py
        raise TargetError(f"cannot read docker context {name!r}: {exc}") from exc
    if ctx is None:
        raise TargetError(f"docker context {name!r} does not exist (see `docker context ls`)")
    host = ctx.Host or DEFAULT_SOCKET
    tls = None
    cfg = ctx.TLSConfig
    if cfg is not None and cfg.cert:
        cert, key = cfg.cert
        tls = TLSFiles(cfg.ca_cert, cert, key, bool(cfg.verify))
    elif host.startswith("https://"):
        tls = TLSFiles(None, None, None, True)
    return EngineTarget(url=_normalise(host), source=source, tls=tls, context=name)


def _current_context_from_config(env: Mapping[str, str]) -> str | None:
    import json

    config_dir = Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker")
    path = config_dir / "config.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    name = data.get("currentContext") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else None


def resolve_target(
    host: str | None = None,
    context: str | None = None,
    env: Mapping[str, str] | None = None,
) -> EngineTarget:
    """Pick the engine like the docker CLI does; raises TargetError with a one-line reason."""
    env = os.environ if env is None else env
    if host and context:
        raise TargetError("conflicting options: either specify --host or --context, not both")
    if host:
        return EngineTarget(url=_normalise(host), source="--host", tls=_tls_from_env(env))
    if context:
        return _from_context(context, "--context")
    if env.get("DOCKER_HOST"):
        return EngineTarget(
            url=_normalise(env["DOCKER_HOST"]), source="DOCKER_HOST", tls=_tls_from_env(env)
        )
    if env.get("DOCKER_CONTEXT"):
        return _from_context(env["DOCKER_CONTEXT"], "DOCKER_CONTEXT")
    current = _current_context_from_config(env)
    if current and current != "default":
        return _from_context(current, "docker config currentContext")
    return EngineTarget(url=DEFAULT_SOCKET, source="default socket")
