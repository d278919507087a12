"""Secrets and configs, pure: the two kinds, who uses each, names docker accepts, and a
config's content made safe to show.

A secret's data never enters the model: the engine returns none, and the one value a user
types or reads from a file lives only in :class:`SecretData` (see :mod:`swarmtui.ops.secret`).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from swarmtui.model.logs import sanitize
from swarmtui.model.state import ClusterState
from swarmtui.model.types import FileRef, Secret, Service


@dataclass(frozen=True, slots=True)
class Kind:
    """What differs between secrets and configs: names, paths and the spec's keys."""

    noun: str
    """``secret`` or ``config`` (the event type, and ``docker NOUN ls``)."""
    path: str
    """The API's collection: ``secrets`` / ``configs``."""
    spec_key: str
    """The list in ``ContainerSpec``: ``Secrets`` / ``Configs``."""
    ref_prefix: str
    """``SecretID``/``SecretName`` or ``ConfigID``/``ConfigName``."""
    max_bytes: int
    """swarmkit's limit on the data (MaxSecretSize 500 KiB, MaxConfigSize 1000 KiB)."""
    secret: bool
    """True for secrets: typed data is masked and the content can never be shown."""

    def refs(self, service: Service) -> tuple[FileRef, ...]:
        return service.secrets if self.secret else service.configs

    def items(self, state: ClusterState) -> dict[str, Secret]:
        return dict(state.secrets if self.secret else state.configs)


SECRET = Kind("secret", "secrets", "Secrets", "Secret", 500 * 1024, True)
CONFIG = Kind("config", "configs", "Configs", "Config", 1000 * 1024, False)
KINDS = {k.noun: k for k in (SECRET, CONFIG)}

# The CLI's and swarmkit's rule for secret and config names (swarmkit validateConfigOrSecretSpec).
_NAME = re.compile(r"^[a-zA-Z0-9]+(?:[a-zA-Z0-9_.-]*[a-zA-Z0-9])?$")
MAX_NAME = 64


def name_problem(name: str, kind: Kind = SECRET) -> str | None:
    """Why docker would refuse ``name`` for a secret/config (None when it is valid)."""
    if not name:
        return f"a {kind.noun} needs a name"
    if len(name) > MAX_NAME:
        return f"invalid {kind.noun} name: longer than {MAX_NAME} characters"
    if not _NAME.match(name):
        return (f"invalid {kind.noun} name {name!r}: only letters, digits and . _ - inside, "
                "starting and ending with a letter or digit")
    return None


def users(state: ClusterState, kind: Kind, item_id: str) -> list[tuple[Service, FileRef]]:
    """The services that mount ``item_id``, with each mount, by service name."""
    found = []
    for svc in sorted(state.services.values(), key=lambda s: s.name):
        for ref in kind.refs(svc):
            if ref.id == item_id:
                found.append((svc, ref))
    return found


def user_names(state: ClusterState, kind: Kind, item_id: str) -> list[str]:
    return sorted({svc.name for svc, _ in users(state, kind, item_id)})


def mount_text(kind: Kind, ref: FileRef) -> str:
    """``/run/secrets/db_pass uid 0 gid 0 mode 0444`` (where the task sees it)."""
    target = ref.target
    if kind.secret and not target.startswith("/"):
        target = f"/run/secrets/{target}"
    elif not target.startswith("/"):
        target = f"/{target}"
    return f"{target} uid {ref.uid} gid {ref.gid} mode {ref.mode:04o}"


def timestamp(ns: int | None) -> str:
    """A listing's CREATED/UPDATED: an absolute UTC time (rows stay pure and stable)."""
    if ns is None:
        return "-"
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def detail_text(state: ClusterState, kind: Kind, item: Secret) -> str:
    """The metadata and the services that use one secret/config (never its data)."""
    lines = [
        f"  ID       {item.id}",
        f"  created  {timestamp(item.created_ns)} UTC",
        f"  updated  {timestamp(item.updated_ns)} UTC",
        f"  driver   {item.driver or '(internal)'}",
    ]
    if item.templating:
        lines.append(f"  template {item.templating}")
    labels = ", ".join(f"{k}={v}" for k, v in item.labels) or "-"
    lines.append(f"  labels   {sanitize(labels)}")
    used = users(state, kind, item.id)
    lines.append("")
    if not used:
        lines.append("Used by no service.")
    else:
        lines.append(f"Used by {len(used)} service mount(s):")
        for svc, ref in used:
            lines.append(f"  {svc.name}: {mount_text(kind, ref)}")
    return "\n".join(lines)


def content_text(data_b64: str, max_lines: int = 2000) -> str:
    """A config's ``Spec.Data`` (base64) as text that cannot control a terminal: each line
    sanitised like a log line; binary data is said to be so."""
    try:
        raw = base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError):
        return "(the engine returned data that is not base64)"
    if not raw:
        return "(empty)"
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    shown = [sanitize(line) for line in lines[:max_lines]]
    if len(lines) > max_lines:
        shown.append(f"… {len(lines) - max_lines} more line(s)")
    return "\n".join(shown)
