"""The one place a malformed user-supplied value becomes an error.

Flags, environment variables and engines.toml keys are checked with the parsers here (and
engine addresses with :func:`swarmtui.engine.target.parse_engine_url`); each failure is an
:class:`InputError` whose text is one line naming the value and what is wanted.
:meth:`swarmtui.settings.Settings.load` runs them once at start; the CLI prints the error as
``swarmtui: error: …`` and exits 2, before anything starts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from swarmtui.model.imageref import image_ref_problem

LOG_LINES_ENV = "SWARMTUI_LOG_LINES"
LOG_LINES_RANGE = (100, 10_000_000)  # the pane keeps at least 100; the top bounds memory
SIZE_COLS = (20, 1000)
SIZE_ROWS = (5, 500)
MAX_SECONDS = 86_400.0

# docker/cli's context name rule; engine names follow it too (they are node names or
# hostnames in practice, and the typed prune confirmation must be typeable).
NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.+-]*")


class InputError(ValueError):
    """A malformed value the user gave; ``str()`` is one line naming it."""


def _one_line(text: str) -> str:
    # A value quoted in a message must not break the message into lines.
    return repr(text)


def size(text: str) -> tuple[int, int]:
    """``COLSxROWS`` within the limits a terminal screenshot can have."""
    m = re.fullmatch(r"\s*(\d{1,6})\s*[xX]\s*(\d{1,6})\s*", text)
    (c_lo, c_hi), (r_lo, r_hi) = SIZE_COLS, SIZE_ROWS
    if not m or not (c_lo <= int(m.group(1)) <= c_hi and r_lo <= int(m.group(2)) <= r_hi):
        raise InputError(
            f"invalid size {_one_line(text)}: use COLSxROWS with COLS {c_lo}-{c_hi} and "
            f"ROWS {r_lo}-{r_hi}, e.g. 120x40"
        )
    return int(m.group(1)), int(m.group(2))


def seconds(text: str) -> float:
    """A duration in seconds, 0 up to a day (no nan, no inf)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 <= value <= MAX_SECONDS):  # also false for nan
        raise InputError(
            f"invalid duration {_one_line(text)}: use seconds from 0 to {MAX_SECONDS:.0f}, "
            "e.g. 2.5"
        )
    return value


def log_lines(env: Mapping[str, str]) -> int | None:
    """``SWARMTUI_LOG_LINES`` (lines the log pane keeps); None when unset."""
    raw = env.get(LOG_LINES_ENV)
    if raw is None or not raw.strip():
        return None
    lo, hi = LOG_LINES_RANGE
    try:
        value = int(raw.strip())
    except ValueError:
        value = -1
    if not lo <= value <= hi:
        raise InputError(
            f"invalid {LOG_LINES_ENV}={_one_line(raw)}: use a whole number of lines from "
            f"{lo} to {hi}, e.g. 20000"
        )
    return value


def engine_name(name: str, where: str) -> str:
    """An engine's name (``--engine NAME=URL``, an ``[engines]`` key); returned unchanged."""
    if not NAME_RE.fullmatch(name):
        what = "an empty engine name" if not name.strip() else f"engine name {_one_line(name)}"
        raise InputError(
            f"{where}: {what} is invalid: use letters, digits and _ . + - "
            "(starting with a letter or digit)"
        )
    return name



PROBE_IMAGE_ENV = "SWARMTUI_PROBE_IMAGE"
PROBE_SOCKET_ENV = "SWARMTUI_PROBE_SOCKET"


def probe_image(text: str, where: str) -> str:
    """A node probe's image reference (``docker:cli``, ``registry:5000/team/cli:27``), by
    the engine's own grammar: a reference it would refuse must not reach a service create."""
    value = text.strip()
    problem = image_ref_problem(value)
    if problem is not None:
        why = problem.partition(": ")[2] if ": " in problem else problem
        raise InputError(f"invalid {where} {_one_line(text)}: {why} (an image reference such "
                         "as docker:cli)")
    return value


_METRICS_URL_RE = re.compile(
    r"(?:http://)?(?P<host>[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>\d{1,5})"
    r"(?P<path>/[A-Za-z0-9._~/-]*)?")


def metrics_url(text: str, where: str) -> str:
    """A node's Prometheus endpoint (``dockerd --metrics-addr``): ``HOST:PORT`` as given to
    dockerd, or ``http://HOST:PORT[/PATH]``; returns the URL (path ``/metrics`` by default).
    Plain HTTP only: the engine's metrics listener has no TLS."""
    value = text.strip()
    m = _METRICS_URL_RE.fullmatch(value)
    if m is None or not 0 < int(m.group("port")) < 65536:
        raise InputError(f"invalid {where} {_one_line(text)}: HOST:PORT as given to dockerd "
                         "--metrics-addr, or http://HOST:PORT/metrics")
    return f"http://{m.group('host')}:{int(m.group('port'))}{m.group('path') or '/metrics'}"


def probe_socket(text: str, where: str) -> str:
    """The node's engine socket as the probe mounts it: an absolute path on every node,
    service templates allowed (``/run/{{.Node.Hostname}}/docker.sock``)."""
    value = text.strip()
    if not value.startswith("/") or any(c.isspace() or ord(c) < 32 for c in value) \
            or "," in value:
        raise InputError(f"invalid {where} {_one_line(text)}: an absolute path on every "
                         "node, e.g. /var/run/docker.sock")
    return value


def not_empty(text: str, where: str) -> str:
    """A name that selects something (``--node``, ``--engine-name``), stripped: an empty one
    must not quietly select the default instead."""
    value = text.strip()
    if not value:
        raise InputError(f"invalid {where} {_one_line(text)}: it is empty")
    return value
