"""Which engine to talk to, chosen the way the docker CLI chooses it.

Order (docker/cli ``resolveContextName`` + ``getServerHost``): ``--host`` (with ``--context``
it is an error, as in the CLI), ``--context``, ``DOCKER_HOST`` (TLS from ``DOCKER_TLS_VERIFY``
/ ``DOCKER_CERT_PATH``), ``DOCKER_CONTEXT``, the CLI config's ``currentContext``, then the
default socket. aiodocker alone lets a config file's context beat ``DOCKER_HOST``; this
module is why swarmtui does not.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from swarmtui.validate import NAME_RE, InputError

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
DEFAULT_TCP_HOST = "localhost"  # docker/cli opts.DefaultHTTPHost
DEFAULT_TCP_PORT = 2375  # docker/cli opts.DefaultHTTPPort: tcp:// without a port, even with TLS
ADDRESS_FORMS = "unix:///PATH, tcp://HOST[:PORT], HOST[:PORT] or ssh://[USER@]HOST[:PORT]"


class TargetError(InputError):
    """The engine selection itself is invalid (bad address, unknown context, missing certs)."""


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
    given: str | None = None  # the address as the user wrote it, when normalising changed it
    engine_name: str | None = None  # set for an extra engine (--engine NAME=URL, engines.toml)
    metrics: tuple[tuple[str, str], ...] = ()
    """(hostname, URL) of nodes' Prometheus endpoints that come with the engine: the demo's
    simulated nodes; the metrics view reads them as ``--metrics`` endpoints (which win)."""

    @property
    def label(self) -> str:
        if self.display:
            return self.display
        return f"{self.context} ({self.url})" if self.context else self.url


# A host: a DNS name or IPv4 address, or an IPv6 address in brackets; then an optional port.
_NETLOC_RE = re.compile(r"(?P<host>\[[^\]]*\]|[^:\[\]]*)(?::(?P<port>[^:]*))?")
_HOSTNAME_RE = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?")


def _host_port(netloc: str, default_port: int | None) -> tuple[str, int | None]:
    """``HOST[:PORT]`` -> (host, port); raises ValueError with the reason."""
    m = _NETLOC_RE.fullmatch(netloc)
    if m is None:
        raise ValueError("use HOST:PORT (an IPv6 address goes in brackets: [::1]:2375)")
    host, port_text = m.group("host"), m.group("port")
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ValueError(f"{host} is not an IPv6 address") from None
    elif host and not _HOSTNAME_RE.fullmatch(host):
        raise ValueError(f"{host!r} is not a host name or IP address")
    port = default_port
    if port_text is not None and port_text != "":
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError(f"port {port_text!r} must be a number from 1 to 65535")
        port = int(port_text)
    return host, port


def parse_engine_url(text: str, what: str = "engine address") -> str:
    """Normalise an engine address the way the docker CLI's ``ParseHost`` does.

    ``unix:///PATH`` (``unix://`` alone is the default socket), ``tcp://HOST[:PORT]`` (port
    2375 and host localhost when left out), a bare ``HOST[:PORT]`` (read as tcp), and
    ``ssh://[USER@]HOST[:PORT]``. Unlike the CLI, a bare absolute path means a unix socket.
    Anything else, ``npipe://`` included, raises TargetError with one line naming ``what``.
    """
    value = text.strip()

    def bad(reason: str) -> TargetError:
        return TargetError(f"invalid {what} {text!r}: {reason}")

    if not value:
        raise bad(f"it is empty; use {ADDRESS_FORMS}")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise bad("it contains spaces or control characters")
    if value.startswith("/"):
        return f"unix://{value}"
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "tcp", value
    if scheme == "unix":
        if "://" in rest:
            raise bad("more than one scheme")
        return f"unix://{rest or DEFAULT_SOCKET[len('unix://'):]}"
    if scheme == "tcp":
        netloc, slash, path = rest.partition("/")
        if "?" in rest or "#" in rest or "@" in netloc:
            raise bad("use tcp://HOST[:PORT] (no user, query or fragment)")
        try:
            host, port = _host_port(netloc, DEFAULT_TCP_PORT)
        except ValueError as exc:
            raise bad(str(exc)) from None
        path = slash + path if path else ""
        return f"tcp://{host or DEFAULT_TCP_HOST}:{port}{path}"
    if scheme == "ssh":
        user, at, netloc = rest.rpartition("@")
        if "/" in netloc or "?" in netloc or "#" in netloc:
            raise bad("use ssh://[USER@]HOST[:PORT] (no path: the remote docker finds its socket)")
        if ":" in user:
            raise bad("a password in the URL is not supported (use an ssh key or agent)")
        if at and not user:
            raise bad("the user before @ is empty")
        try:
            host, _ = _host_port(netloc, None)
        except ValueError as exc:
            raise bad(str(exc)) from None
        if not host:
            raise bad("no host; use ssh://[USER@]HOST[:PORT]")
        return value
    if scheme == "npipe":
        raise bad("npipe:// is a Windows named pipe, which swarmtui cannot use")
    if scheme in ("http", "https"):
        raise bad(f"use tcp://{rest} (TLS comes from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH)")
    raise bad(f"unknown scheme {scheme}://; use {ADDRESS_FORMS}")


def address_target(
    text: str, source: str, env: Mapping[str, str], what: str | None = None
) -> EngineTarget:
    """The engine at an address the user gave (``--host``, ``DOCKER_HOST``, ``--engine``)."""
    url = parse_engine_url(text, what or source)
    given = text.strip() if url != text.strip() else None
    return EngineTarget(url=url, source=source, tls=_tls_from_env(env), given=given)


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
    _check_tls_files(files["ca"], files["cert"], files["key"])
    return TLSFiles(str(files["ca"]), str(files["cert"]), str(files["key"]), verify)


def _check_tls_files(ca: Path, cert: Path, key: Path) -> None:
    # Loaded once here so a bad PEM is a one-line usage error, not a traceback at connect.
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        ctx.load_verify_locations(str(ca))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise TargetError(f"cannot load the TLS CA certificate {ca}: {_reason(exc)}") from None
    try:
        ctx.load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise TargetError(
            f"cannot load the TLS certificate {cert} with key {key}: {_reason(exc)}"
        ) from None


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc)


def _from_context(name: str, source: str, env: Mapping[str, str]) -> EngineTarget:
    from docker.context import ContextAPI  # docker-py reads the CLI's context store for us

    if not NAME_RE.fullmatch(name):
        raise TargetError(
            f"invalid docker context name {name!r} (from {source}): use letters, digits "
            "and _ . + - (see `docker context ls`)"
        )
    if name == "default":
        return EngineTarget(url=DEFAULT_SOCKET, source=source, context="default")
    try:
        ctx = ContextAPI.get_context(name)
    except Exception as exc:  # a corrupt meta.json raises a bare Exception in docker-py
        raise TargetError(f"cannot read docker context {name!r}: {exc}") from exc
    if ctx is None:
        # docker-py finds the store only beside an existing config.json; the CLI does not
        # need one (a DOCKER_CONFIG holding contexts only): read the meta file ourselves.
        listed = {c.name: c for c in list_contexts(env)}
        if name not in listed:
            raise TargetError(f"docker context {name!r} does not exist (see `docker context ls`)")
        host = listed[name].host
        if host.startswith(("http://", "https://")):
            raise TargetError(f"docker context {name!r}: TLS contexts need a config.json "
                              f"beside contexts/ (run `docker context use {name}` once)")
        return EngineTarget(url=parse_engine_url(host, f"address of docker context {name!r}"),
                            source=source, context=name)
    host = ctx.Host or DEFAULT_SOCKET
    tls = None
    cfg = ctx.TLSConfig
    if cfg is not None and cfg.cert:
        cert, key = cfg.cert
        tls = TLSFiles(cfg.ca_cert, cert, key, bool(cfg.verify))
    elif host.startswith("https://"):
        tls = TLSFiles(None, None, None, True)
    if not host.startswith(("http://", "https://")):  # docker-py writes these; aiodocker takes them
        host = parse_engine_url(host, f"address of docker context {name!r}")
    return EngineTarget(url=host, source=source, tls=tls, context=name)


def _current_context_from_config(env: Mapping[str, str]) -> str | None:
    import json

    path = _config_dir(env) / "config.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    name = data.get("currentContext") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else None


@dataclass(frozen=True, slots=True)
class ContextInfo:
    """One docker CLI context, as ``docker context ls`` lists it."""

    name: str
    host: str
    description: str = ""


def _config_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker")


def list_contexts(env: Mapping[str, str] | None = None) -> list[ContextInfo]:
    """The CLI's contexts: ``default`` first, then every readable
    ``contexts/meta/*/meta.json`` by name (unreadable ones are skipped, as the palette is no
    place for an error; ``--context NAME`` reports them)."""
    import json

    env = os.environ if env is None else env
    found = [ContextInfo("default", DEFAULT_SOCKET, "the local engine")]
    for meta in sorted((_config_dir(env) / "contexts" / "meta").glob("*/meta.json")):
        try:
            data = json.loads(meta.read_text())
            name = data["Name"]
            host = data.get("Endpoints", {}).get("docker", {}).get("Host", "") or DEFAULT_SOCKET
            description = (data.get("Metadata") or {}).get("Description", "") or ""
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            continue
        if isinstance(name, str) and NAME_RE.fullmatch(name) and name != "default":
            found.append(ContextInfo(name, str(host), str(description)))
    return [found[0], *sorted(found[1:], key=lambda c: c.name)]


def resolve_target(
    host: str | None = None,
    context: str | None = None,
    env: Mapping[str, str] | None = None,
) -> EngineTarget:
    """Pick the engine like the docker CLI does; raises TargetError with a one-line reason."""
    env = os.environ if env is None else env
    if host is not None and context is not None:
        raise TargetError("conflicting options: either specify --host or --context, not both")
    if host is not None:
        return address_target(host, "--host", env)
    if context is not None:
        return _from_context(context.strip(), "--context", env)
    if env.get("DOCKER_HOST", "").strip():  # blank means unset, as for the CLI
        return address_target(env["DOCKER_HOST"], "DOCKER_HOST", env)
    if env.get("DOCKER_CONTEXT", "").strip():
        return _from_context(env["DOCKER_CONTEXT"].strip(), "DOCKER_CONTEXT", env)
    current = _current_context_from_config(env)
    if current and current != "default":
        return _from_context(current, "docker config currentContext", env)
    return EngineTarget(url=DEFAULT_SOCKET, source="default socket")
