"""Pure log model: service-log framing, payload parsing, sanitising, CLI formatting, buffering.

Everything here is stdlib-only and does no IO. The engine feeds raw response bytes of
``GET /services/{id}/logs`` (or ``/tasks/{id}/logs``) into a :class:`FrameDecoder`, turns each
frame into a :class:`LogRecord` with :func:`parse_payload`, sanitises the message with
:func:`sanitize`, and stores :class:`LogLine` objects in a :class:`LogRing`.

Wire format (moby ``api/server/httputils/write_log_stream.go``): non-TTY services use stdcopy
multiplexing, an 8-byte header ``[stream, 0, 0, 0, size (uint32 BE)]`` followed by one log
message; stream 1 = stdout, 2 = stderr, 3 = daemon error (``Error grabbing logs: …``). TTY
services send a raw byte stream. Each message is
``[<RFC3339Nano timestamp> ' '][<details> ' ']<message>``; messages longer than 16 KiB arrive
as several *partial* messages, only the last one ending in ``\\n``.

Security: log text comes from containers and must never control the operator's terminal.
:func:`sanitize` is the only function that turns untrusted bytes into display text; see its
docstring for exactly what is shown for neutralised input.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal
from urllib.parse import unquote_plus

# Re-exported: engine/logs.py and the tests import them from here.
from swarmtui.model.dockerfmt import parse_rfc3339_ns as parse_rfc3339_ns
from swarmtui.model.dockerfmt import truncate_id as truncate_id

NS_PER_S: Final = 1_000_000_000

# --------------------------------------------------------------------------------------------
# Framing
# --------------------------------------------------------------------------------------------

STDIN: Final = 0
STDOUT: Final = 1
STDERR: Final = 2
DAEMON: Final = 3  # stdcopy "Systemerr": the daemon's own error ("Error grabbing logs: …")

StreamName = Literal["stdout", "stderr", "daemon"]

_STREAM_NAMES: Final[dict[int, StreamName]] = {
    STDIN: "stdout",  # Go's stdcopy writes stdin frames to stdout as well
    STDOUT: "stdout",
    STDERR: "stderr",
    DAEMON: "daemon",
}


def stream_name(stream: int) -> StreamName:
    """``1 -> 'stdout'``, ``2 -> 'stderr'``, ``3 -> 'daemon'`` (``0`` and unknown -> stdout)."""
    return _STREAM_NAMES.get(stream, "stdout")


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame of a log stream: a stream type and the raw payload (one log message)."""

    stream: int
    payload: bytes


class FrameError(ValueError):
    """The byte stream is not stdcopy-multiplexed (only raised with ``fallback_raw=False``)."""


class FrameDecoder:
    """Incremental decoder for a service-log response body.

    ``feed(chunk)`` accepts arbitrary chunk boundaries (a header or payload may be split
    anywhere, down to one byte per call) and returns the frames completed by that chunk.

    Multiplexed mode (default): each frame is ``[stream, 0, 0, 0, size BE32] + payload``.
    A header whose stream byte is not 0–3, whose padding bytes are not zero, or whose size
    exceeds ``max_frame`` means the stream is not multiplexed (typically a TTY service read
    with the wrong flag). With ``fallback_raw=True`` (default) the decoder then switches to
    raw mode for the rest of the stream (``fell_back`` becomes True) and re-reads the
    buffered bytes as raw text, so the operator still sees the output; with
    ``fallback_raw=False`` it raises :class:`FrameError` (after returning the good frames that
    preceded the bad header, if any: the error is then raised by the next ``feed``/``flush``).

    Raw mode (``raw=True``, TTY services): the stream is split on ``\\n``; every complete line
    becomes a ``Frame(STDOUT, line)`` *including* its ``\\n`` (so :func:`parse_payload` sees it
    as complete). An unterminated tail is kept until more data arrives or :meth:`flush` is
    called; a tail longer than ``max_line`` bytes is emitted early as a partial frame (cut on
    a UTF-8 character boundary) so a progress bar without newlines cannot grow memory forever.
    A raw stream has no stream types: daemon errors arrive as ordinary text lines.
    """

    __slots__ = (
        "_buf",
        "_error",
        "_fallback",
        "_fell_back",
        "_max_frame",
        "_max_line",
        "_raw",
        "_scan",
    )

    def __init__(
        self,
        *,
        raw: bool = False,
        max_frame: int = 8 << 20,
        max_line: int = 64 << 10,
        fallback_raw: bool = True,
    ) -> None:
        if max_frame < 1 or max_line < 4:
            raise ValueError("max_frame must be >= 1 and max_line >= 4")
        self._buf = bytearray()
        self._raw = raw
        self._max_frame = max_frame
        self._max_line = max_line
        self._fallback = fallback_raw
        self._scan = 0  # raw mode: offset up to which _buf is known to contain no b"\n"
        self._fell_back = False
        self._error: FrameError | None = None  # raised on the next call (frames came first)

    @property
    def raw(self) -> bool:
        """True when decoding a raw (TTY) stream, either requested or after a fallback."""
        return self._raw

    @property
    def fell_back(self) -> bool:
        """True once a bad header made a multiplexed decoder switch to raw mode."""
        return self._fell_back

    @property
    def pending(self) -> int:
        """Bytes buffered but not yet returned as a frame."""
        return len(self._buf)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Add ``data`` and return every frame it completes (possibly none)."""
        if self._error is not None:
            raise self._error
        if data:
            self._buf += data
        if self._raw:
            return self._feed_raw()
        return self._feed_mux()

    def flush(self) -> list[Frame]:
        """End of stream. Raw mode: return the unterminated tail as a (partial) frame.

        Multiplexed mode: an incomplete frame (the connection was cut mid-frame) is
        discarded, not returned: after a reconnect with ``since=`` the daemon sends the whole
        message again, and a truncated copy would show up as a second, different line.
        """
        if self._error is not None:
            raise self._error
        buf = self._buf
        self._buf = bytearray()
        self._scan = 0
        if self._raw and buf:
            return [Frame(STDOUT, bytes(buf))]
        return []

    def _feed_mux(self) -> list[Frame]:
        buf = self._buf
        n = len(buf)
        pos = 0
        out: list[Frame] = []
        while n - pos >= 8:
            stream = buf[pos]
            if stream > 3 or buf[pos + 1] or buf[pos + 2] or buf[pos + 3]:
                return self._bad_header(out, pos)
            size = int.from_bytes(buf[pos + 4 : pos + 8], "big")
            if size > self._max_frame:
                return self._bad_header(out, pos)
            end = pos + 8 + size
            if end > n:
                break
            out.append(Frame(stream, bytes(buf[pos + 8 : end])))
            pos = end
        if pos:
            del buf[:pos]
        return out

    def _bad_header(self, out: list[Frame], pos: int) -> list[Frame]:
        if not self._fallback:
            header = bytes(self._buf[pos : pos + 8]).hex(" ")
            error = FrameError(f"not a multiplexed log stream (bad frame header: {header})")
            if not out:
                raise error
            # Hand out the good frames first; the error is raised by the next call.
            del self._buf[:pos]
            self._error = error
            return out
        del self._buf[:pos]
        self._raw = True
        self._fell_back = True
        self._scan = 0
        out.extend(self._feed_raw())
        return out

    def _feed_raw(self) -> list[Frame]:
        buf = self._buf
        out: list[Frame] = []
        start = 0
        scan = self._scan
        max_line = self._max_line
        while True:
            nl = buf.find(b"\n", scan)
            if nl < 0:
                if len(buf) - start <= max_line:
                    break
                cut = start + max_line
                # Don't split a UTF-8 sequence: back off over continuation bytes (max 3).
                back = 0
                while back < 3 and (buf[cut] & 0xC0) == 0x80:
                    cut -= 1
                    back += 1
                if back == 3 and (buf[cut] & 0xC0) == 0x80:
                    cut += 3
                out.append(Frame(STDOUT, bytes(buf[start:cut])))
                start = scan = cut
                continue
            out.append(Frame(STDOUT, bytes(buf[start : nl + 1])))
            start = scan = nl + 1
        if start:
            del buf[:start]
        self._scan = len(buf)
        return out


# --------------------------------------------------------------------------------------------
# Payload parsing
# --------------------------------------------------------------------------------------------

SWARM_NODE_ID: Final = "com.docker.swarm.node.id"
SWARM_SERVICE_ID: Final = "com.docker.swarm.service.id"
SWARM_TASK_ID: Final = "com.docker.swarm.task.id"
_SWARM_KEYS: Final = frozenset({SWARM_NODE_ID, SWARM_SERVICE_ID, SWARM_TASK_ID})

_EMPTY_DETAILS: Final[Mapping[str, str]] = MappingProxyType({})

_MINUTE_CACHE: dict[bytes, int] = {}  # b"YYYY-MM-DDTHH:MM:" -> unix ns of that minute (UTC)
_DETAILS_CACHE: dict[bytes, Mapping[str, str] | None] = {}
_CACHE_MAX: Final = 4096


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One parsed log message.

    ``timestamp`` is the daemon's RFC3339Nano string exactly as sent (``""`` when absent or
    unparseable); ``ts_ns`` the same instant as unix nanoseconds UTC (``0`` = unknown).
    ``details`` is a read-only mapping (shared between records with identical details).
    ``message`` is the raw message bytes without the trailing ``\\n`` (and without a ``\\r``
    before it); ``partial`` is True when the payload did not end in ``\\n`` (a > 16 KiB line
    split by the daemon, or a raw-stream tail).
    """

    timestamp: str
    ts_ns: int
    details: Mapping[str, str]
    message: bytes
    partial: bool

    @property
    def node_id(self) -> str:
        return self.details.get(SWARM_NODE_ID, "")

    @property
    def service_id(self) -> str:
        return self.details.get(SWARM_SERVICE_ID, "")

    @property
    def task_id(self) -> str:
        return self.details.get(SWARM_TASK_ID, "")


def _parse_ts_bytes(raw: bytes) -> int | None:
    """:func:`parse_rfc3339_ns` for bytes, with a fast path for the daemon's fixed-width UTC
    form ``YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`` (a per-minute cache of the epoch offset)."""
    if len(raw) == 30 and raw[29] == 0x5A and raw[19] == 0x2E:  # "Z", "."
        base = _MINUTE_CACHE.get(raw[:17])
        sec, frac = raw[17:19], raw[20:29]
        if base is not None and sec.isdigit() and frac.isdigit() and sec < b"61":
            return base + int(sec) * NS_PER_S + int(frac)
    if not raw.isascii():
        return None
    text = raw.decode("ascii")
    ns = parse_rfc3339_ns(text)
    if ns is not None and len(raw) == 30 and raw[29] == 0x5A and raw[19] == 0x2E:
        if len(_MINUTE_CACHE) >= _CACHE_MAX:
            _MINUTE_CACHE.clear()
        minute = raw[:17]
        _MINUTE_CACHE[minute] = parse_rfc3339_ns(minute.decode("ascii") + "00Z") or 0
    return ns


def parse_details(raw: bytes) -> Mapping[str, str] | None:
    """Parse a details token ``k=v,k=v`` (url.QueryEscape'd keys and values).

    Returns None when the token does not look like details (a pair without ``=``).
    Results are cached and returned as read-only mappings.
    """
    cached = _DETAILS_CACHE.get(raw)
    if cached is not None or raw in _DETAILS_CACHE:
        return cached
    result: Mapping[str, str] | None
    if not raw:
        result = _EMPTY_DETAILS
    else:
        text = raw.decode("utf-8", "replace")
        escaped = "%" in text or "+" in text
        out: dict[str, str] = {}
        result = None
        for pair in text.split(","):
            key, eq, value = pair.partition("=")
            if not eq:
                break
            if escaped:
                key, value = unquote_plus(key), unquote_plus(value)
            out[key] = value
        else:
            result = MappingProxyType(out)
    if len(_DETAILS_CACHE) >= _CACHE_MAX:
        _DETAILS_CACHE.clear()
    _DETAILS_CACHE[raw] = result
    return result


def parse_payload(payload: bytes, *, timestamps: bool, details: bool) -> LogRecord:
    """Split one frame payload into timestamp, details and message. Never raises.

    ``timestamps``/``details`` say what was requested from the daemon (``timestamps=1``,
    ``details=1``). Tolerance rules: if the expected timestamp is missing or unparseable, the
    whole payload is the message (no timestamp, no details). If the expected details token is
    not ``k=v`` pairs, it is left in the message. A daemon-error frame (stream 3) has neither
    and simply becomes the message.
    """
    data = bytes(payload)
    partial = not data.endswith(b"\n")
    if not partial:
        data = data[:-2] if data.endswith(b"\r\n") else data[:-1]
    timestamp = ""
    ts_ns = 0
    det: Mapping[str, str] = _EMPTY_DETAILS
    rest = data
    if timestamps:
        sp = rest.find(b" ", 0, 40)
        if sp > 0:
            raw_ts = rest[:sp]
            parsed = _parse_ts_bytes(raw_ts)
            if parsed is not None:
                timestamp, ts_ns, rest = raw_ts.decode("ascii"), parsed, rest[sp + 1 :]
        if not timestamp:
            return LogRecord("", 0, _EMPTY_DETAILS, data, partial)
    if details:
        # The daemon always writes "<details> " (an empty token when there are no attrs).
        sp = rest.find(b" ")
        parsed_det = parse_details(rest[:sp]) if sp >= 0 else None
        if parsed_det is not None:
            det = parsed_det
            rest = rest[sp + 1 :]
    return LogRecord(timestamp, ts_ns, det, rest, partial)


# --------------------------------------------------------------------------------------------
# Sanitising
# --------------------------------------------------------------------------------------------

#: Shown in place of every removed escape sequence / C1 control (U+241B SYMBOL FOR ESCAPE).
ESC_MARK: Final = "\u241b"
#: Shown in place of bidi overrides/isolates and lone surrogates.
REPLACEMENT: Final = "\ufffd"
#: Tab stops used for tab expansion.
TAB_SIZE: Final = 8

# Anything that needs the slow path: C0 (incl. TAB), DEL, C1, line/paragraph separators,
# bidi embedding/override/isolate controls, lone surrogates.
_UNSAFE_RE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_ESC_INTRO_RE: Final = re.compile("[\x1b\x90\x98\x9b\x9d\x9e\x9f]")
# Colour/style SGR in any form (7-bit or 8-bit CSI, ';' or ':' parameters): removed silently.
# (Every pattern below is an alternation of literal-led branches so that the regex engine can
# skip ahead with a first-character set; "(?:\x1b\[|\x9b)..." would be ~6x slower.)
_SGR_ANY_RE: Final = re.compile("\x1b\\[[0-9;:]*m|\x9b[0-9;:]*m")
# The only thing keep_sgr=True keeps: a plain 7-bit SGR.
_SGR_KEEP_SPLIT_RE: Final = re.compile("(\x1b\\[[0-9;]*m)")
# CSI body: parameter bytes, intermediate bytes, final byte (if any).
_CSI: Final = "[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
# OSC body up to BEL or ST (ESC \\ or 8-bit ST); any other ESC ends it too.
_OSC: Final = "[^\x07\x1b\x9c]*(?:\x07|\x1b\\\\|\x9c)?"
# DCS / SOS / PM / APC body up to ST.
_STR: Final = "[^\x1b\x9c]*(?:\x1b\\\\|\x9c)?"
_SEQ_RE: Final = re.compile(
    "\x1b(?:"
    f"\\[{_CSI}"  # CSI
    f"|\\]{_OSC}"  # OSC (title, OSC 8 hyperlink, OSC 52 clipboard, ...)
    f"|[PX^_]{_STR}"  # DCS, SOS, PM, APC
    "|[\x20-\x2f]*[\x30-\x7e]?"  # other escapes (ESC c, ESC 7, ESC ( B, ESC # 8), lone ESC
    ")"
    f"|\x9b{_CSI}"  # 8-bit CSI
    f"|\x9d{_OSC}"  # 8-bit OSC
    f"|\x90{_STR}|\x98{_STR}|\x9e{_STR}|\x9f{_STR}"  # 8-bit DCS, SOS, PM, APC
)
# Runs of controls left after the escape sequences are gone (TAB excluded).
_CTRL_RUN_RE: Final = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]+"
)


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {c: chr(0x2400 + c) for c in range(0x20)}  # control pictures
    del table[0x09]  # TAB is kept here and expanded afterwards
    table[0x7F] = "\u2421"  # DEL -> ␡
    for c in range(0x80, 0xA0):  # C1 = 8-bit "ESC <c-0x40>": same mark as escape sequences
        table[c] = ESC_MARK
    table[0x2028] = "\u2424"  # LINE SEPARATOR -> ␤
    table[0x2029] = "\u2424"  # PARAGRAPH SEPARATOR -> ␤
    for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), *range(0xD800, 0xE000)]:
        table[c] = REPLACEMENT
    return table


_TABLE: Final = _build_table()
_WINDOW_FACTOR: Final = 16


def _has_escape(text: str) -> bool:
    # "\x1b" in text is a memchr; the 8-bit introducers can only occur in non-ASCII text.
    return "\x1b" in text or (not text.isascii() and _ESC_INTRO_RE.search(text) is not None)


def _clean_part(text: str) -> str:
    """Neutralise everything except TAB (no truncation, no tab expansion).

    Callers only get here when ``_UNSAFE_RE`` matched (the fast path skips it).
    """
    if _has_escape(text):
        text = _SGR_ANY_RE.sub("", text)
        if _has_escape(text):
            text = _SEQ_RE.sub(ESC_MARK, text)
    if _CTRL_RUN_RE.search(text) is None:
        return text
    # str.translate with non-ASCII replacements is ~100 ns/char; only translate the runs.
    return _CTRL_RUN_RE.sub(_translate_run, text)


def _translate_run(m: re.Match[str]) -> str:
    return m.group().translate(_TABLE)


def _expand_tabs(text: str, column: int) -> str:
    """Expand tabs in ``text`` assuming it starts at ``column`` (code points, not cells)."""
    pieces = text.split("\t")
    out = [pieces[0]]
    column += len(pieces[0])
    for piece in pieces[1:]:
        pad = TAB_SIZE - column % TAB_SIZE
        out.append(" " * pad)
        out.append(piece)
        column += pad + len(piece)
    return "".join(out)


def _suffix(hidden: int) -> str:
    return f"… [+{hidden} chars]"


def sanitize(data: bytes | str, *, max_chars: int = 4000, keep_sgr: bool = False) -> str:
    """Turn untrusted container output into text that cannot control a terminal.

    What the operator sees for neutralised input (the rule: removed control input leaves a
    one-character trace, except colour which is too common to flag):

    * SGR colour/style sequences (``ESC [ … m``, also 8-bit and ``:``-parameter forms):
      removed **silently** (kept verbatim with ``keep_sgr=True`` if plain 7-bit
      ``ESC [ <digits;> m``; a reset ``ESC [0m`` is then appended so colour cannot leak).
    * Every other escape sequence -> one ``␛`` (U+241B) for the whole sequence: CSI (cursor
      moves, erase, …, also 8-bit CSI U+009B), OSC (title, OSC 8 links, OSC 52 clipboard;
      up to BEL/ST, or to the end of the line when unterminated), DCS/SOS/PM/APC strings
      (to ST), single-character escapes (``ESC c``, ``ESC 7``, ``ESC ( B``), a lone ESC.
    * Other C1 controls U+0080–U+009F -> ``␛`` (a C1 control is the 8-bit form of an escape).
    * C0 controls -> their Unicode control picture: NUL ``␀``, BS ``␈``, CR ``␍``, LF ``␊``,
      BEL ``␇``, … ; DEL -> ``␡``. Callers split lines and strip the final newline first.
    * TAB -> spaces to the next 8-column stop (columns counted in code points).
    * U+2028/U+2029 line/paragraph separators -> ``␤``.
    * Bidi embeddings/overrides/isolates (U+202A–U+202E, U+2066–U+2069) and lone surrogates
      -> U+FFFD. Invalid UTF-8 in ``bytes`` input -> U+FFFD (``errors="replace"``).

    The result contains no character in U+0000–U+001F, U+007F–U+009F (except the ESC of kept
    SGR sequences with ``keep_sgr=True``). If it would be longer than ``max_chars`` visible
    characters it is cut to ``max_chars`` and ``… [+N chars]`` is appended (N = characters
    not shown). Input longer than ``16 * max_chars + 1024`` characters is cut *before*
    sanitising (bounded work per line); N then counts that raw remainder too.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1, got {max_chars}")
    text = data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")
    raw_hidden = 0
    window = max_chars * _WINDOW_FACTOR + 1024
    if len(text) > window:
        raw_hidden = len(text) - window
        text = text[:window]

    if keep_sgr and "\x1b" in text:
        return _sanitize_keep_sgr(text, max_chars, raw_hidden)

    if _UNSAFE_RE.search(text) is not None:
        text = _clean_part(text)
        if "\t" in text:
            text = text.expandtabs(TAB_SIZE)
    if len(text) > max_chars:
        return text[:max_chars] + _suffix(len(text) - max_chars + raw_hidden)
    if raw_hidden:
        return text + _suffix(raw_hidden)
    return text


def _sanitize_keep_sgr(text: str, max_chars: int, raw_hidden: int) -> str:
    parts = _SGR_KEEP_SPLIT_RE.split(text)  # even: text, odd: kept SGR sequences
    out: list[str] = []
    visible = 0
    hidden = 0
    kept_sgr = False
    for i, part in enumerate(parts):
        if i % 2:
            if hidden == 0 and visible < max_chars:
                out.append(part)
                kept_sgr = True
            continue
        if not part:
            continue
        clean = part if _UNSAFE_RE.search(part) is None else _clean_part(part)
        if "\t" in clean:
            clean = _expand_tabs(clean, visible)
        if hidden or visible >= max_chars:
            hidden += len(clean)
            continue
        room = max_chars - visible
        if len(clean) > room:
            out.append(clean[:room])
            hidden += len(clean) - room
            visible = max_chars
        else:
            out.append(clean)
            visible += len(clean)
    if kept_sgr:
        out.append("\x1b[0m")
    hidden += raw_hidden
    if hidden:
        out.append(_suffix(hidden))
    return "".join(out)


# --------------------------------------------------------------------------------------------
# CLI-identical prefixes
# --------------------------------------------------------------------------------------------


def _safe_name(name: str) -> str:
    return name if _UNSAFE_RE.search(name) is None else sanitize(name, max_chars=256)


def format_prefix(
    service: str,
    slot: int | None,
    task_id: str,
    node: str,
    *,
    task_ids: bool = True,
    replicas: int | None = None,
    no_trunc: bool = False,
) -> str:
    """The ``docker service logs`` prefix: ``<service>.<slot>.<taskid12>@<node><pad>    | ``.

    Mirrors docker/cli ``cli/command/service/logs.go (taskFormatter.format, logWriter.Write)``:
    ``slot`` None (global service: swarm stores Slot 0) prints ``0``; ``task_ids=False`` is
    ``--no-task-ids``; ``no_trunc=True`` keeps the full task ID (``--no-trunc``). Padding is
    ``len(str(replicas)) - len(str(slot))`` spaces, where the CLI uses 1 digit when the service
    is not replicated (``replicas=None``). Names are sanitised if they contain controls.
    """
    slot_no = 0 if slot is None else slot
    name = f"{_safe_name(service)}.{slot_no}"
    if task_ids:
        name += "." + _safe_name(task_id if no_trunc else truncate_id(task_id))
    width = 1 if replicas is None else len(str(replicas))
    pad = width - len(str(slot_no))
    return f"{name}@{_safe_name(node)}{' ' * pad if pad > 0 else ''}    | "


# --------------------------------------------------------------------------------------------
# Lines and the ring buffer
# --------------------------------------------------------------------------------------------


# Not frozen, on purpose: a frozen dataclass sets each of the 12 fields through
# object.__setattr__, 2.1 us per line against 0.33 us here, and one LogLine is built per log
# line at the engine's ~70k lines/s. Treat it as immutable all the same (nothing mutates it;
# with_seq() makes a copy).
@dataclass(slots=True)
class LogLine:
    """One displayable log line. ``text`` is already sanitised.

    ``seq`` is the absolute position assigned by :class:`LogRing` (monotonic, never reused);
    lines built before appending may carry any value (e.g. ``-1``), the ring re-stamps them.
    ``ts_ns`` is 0 when the daemon sent no timestamp; ``timestamp`` is then ``""``.
    ``stream`` is ``"stdout"``, ``"stderr"`` or ``"daemon"`` (daemon errors have no task).
    ``partial`` marks a fragment of a line the daemon split (> 16 KiB) or a raw-stream tail.
    """

    seq: int
    ts_ns: int
    timestamp: str
    stream: StreamName
    service_id: str
    service_name: str
    task_id: str
    slot: int | None
    node_id: str
    node_name: str
    text: str
    partial: bool = False

    def with_seq(self, seq: int) -> LogLine:
        """A copy with another ``seq`` (cheaper than ``dataclasses.replace``)."""
        return LogLine(
            seq,
            self.ts_ns,
            self.timestamp,
            self.stream,
            self.service_id,
            self.service_name,
            self.task_id,
            self.slot,
            self.node_id,
            self.node_name,
            self.text,
            self.partial,
        )


def line_prefix(
    line: LogLine, *, task_ids: bool = True, replicas: int | None = None, no_trunc: bool = False
) -> str:
    """:func:`format_prefix` for a :class:`LogLine` (the pane and ``swarmtui logs`` both)."""
    return format_prefix(
        line.service_name,
        line.slot,
        line.task_id,
        line.node_name,
        task_ids=task_ids,
        replicas=replicas,
        no_trunc=no_trunc,
    )


def format_line(
    line: LogLine,
    *,
    timestamps: bool = False,
    task_ids: bool = True,
    replicas: int | None = None,
    no_trunc: bool = False,
    details: Mapping[str, str] | None = None,
) -> str:
    """The full ``docker service logs`` output line for ``line`` (no trailing newline).

    ``[<timestamp> ]<prefix>[<details> ]<text>``: the timestamp first with ``-t``
    (``timestamps=True``, omitted when the line has none), then :func:`format_prefix`, then
    with ``--details`` (``details`` not None) the remaining attributes as sorted ``k=v``
    joined by ``,`` plus a space (the three swarm keys are dropped; empty -> just a space).
    Daemon-error lines print like the CLI's ``error from daemon in stream: …``.
    """
    if line.stream == "daemon":
        return f"error from daemon in stream: {line.text}"
    out: list[str] = []
    if timestamps and line.timestamp:
        out.append(line.timestamp + " ")
    out.append(
        format_prefix(
            line.service_name,
            line.slot,
            line.task_id,
            line.node_name,
            task_ids=task_ids,
            replicas=replicas,
            no_trunc=no_trunc,
        )
    )
    if details is not None:
        pairs = sorted(f"{k}={v}" for k, v in details.items() if k not in _SWARM_KEYS)
        out.append(sanitize(",".join(pairs)) + " ")
    out.append(line.text)
    return "".join(out)


def merge_by_time(lines: Iterable[LogLine]) -> list[LogLine]:
    """Lines of several streams in one timestamp order (streams deliver their history one
    after another): the pane's backlog and ``swarmtui logs`` both use this.

    Stable: lines with equal timestamps, and each task's own lines, keep their order. A line
    without a timestamp (a daemon error, ``ts_ns == 0``) stays right after the line its
    service delivered before it rather than jumping to the front.
    """
    keyed: list[tuple[int, LogLine]] = []
    last: dict[str, int] = {}
    for line in lines:
        ns = line.ts_ns
        if ns:
            last[line.service_id] = ns
        else:
            ns = last.get(line.service_id, 0)
        keyed.append((ns, line))
    keyed.sort(key=lambda item: item[0])
    return [line for _, line in keyed]


class LogRing:
    """Bounded ring buffer of :class:`LogLine` with absolute sequence numbers.

    Sequence numbers start at 0 and are assigned by :meth:`append` (the ring is the only
    authority: a line whose ``seq`` differs is re-stamped). Invariant:
    ``total == dropped + cleared + len(ring)`` and ``first_seq == total - len(ring)``, so a
    line is never lost without being counted. Appends are O(1) (no O(capacity) work after the
    one-off growth of the backing list).
    """

    __slots__ = ("_base", "_buf", "_capacity", "_cleared", "_dropped", "_len", "_total")

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self._capacity = capacity
        self._buf: list[LogLine] = []
        self._base = 0  # seq stored at _buf[0] of the current generation (changes on clear())
        self._len = 0
        self._total = 0
        self._dropped = 0
        self._cleared = 0

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def dropped(self) -> int:
        """Lines evicted because the ring was full."""
        return self._dropped

    @property
    def cleared(self) -> int:
        """Lines removed by :meth:`clear`."""
        return self._cleared

    @property
    def total(self) -> int:
        """Lines ever appended (== the ``seq`` the next line will get)."""
        return self._total

    @property
    def next_seq(self) -> int:
        return self._total

    @property
    def first_seq(self) -> int:
        """``seq`` of the oldest retained line (== ``next_seq`` when empty)."""
        return self._total - self._len

    def __len__(self) -> int:
        return self._len

    def append(self, line: LogLine) -> LogLine:
        """Store ``line`` (re-stamped with the next ``seq`` if needed) and return it."""
        seq = self._total
        if line.seq != seq:
            line = line.with_seq(seq)
        buf = self._buf
        if len(buf) < self._capacity:
            buf.append(line)
        else:
            buf[(seq - self._base) % self._capacity] = line
        if self._len == self._capacity:
            self._dropped += 1
        else:
            self._len += 1
        self._total = seq + 1
        return line

    def extend(self, lines: Iterable[LogLine]) -> None:
        for line in lines:
            self.append(line)

    def clear(self) -> None:
        """Forget every retained line (counted in ``cleared``); ``seq`` keeps counting."""
        self._cleared += self._len
        self._len = 0
        self._buf = []
        self._base = self._total

    def get(self, seq: int) -> LogLine | None:
        """The line with this ``seq``, or None if evicted/cleared or not appended yet."""
        if seq < self._total - self._len or seq >= self._total:
            return None
        return self._buf[(seq - self._base) % self._capacity]

    def slice(self, start_seq: int, end_seq: int) -> list[LogLine]:
        """Retained lines with ``start_seq <= seq < end_seq`` (clamped), oldest first."""
        lo = max(start_seq, self._total - self._len)
        hi = min(end_seq, self._total)
        if lo >= hi:
            return []
        cap = self._capacity
        i = (lo - self._base) % cap
        j = (hi - self._base) % cap
        if i < j:
            return self._buf[i:j]
        return self._buf[i:] + self._buf[:j]

    def tail(self, n: int) -> list[LogLine]:
        """The newest ``n`` retained lines, oldest first."""
        if n <= 0:
            return []
        return self.slice(self._total - n, self._total)

    def __iter__(self) -> Iterator[LogLine]:
        return iter(self.slice(self.first_seq, self._total))


# --------------------------------------------------------------------------------------------
# Resume de-duplication
# --------------------------------------------------------------------------------------------


class _TaskMark:
    __slots__ = ("budget", "counts", "last_ns", "resuming")

    def __init__(self, ts_ns: int, key: int) -> None:
        self.last_ns = ts_ns
        self.counts: dict[int, int] = {key: 1}  # text hash -> lines seen at exactly last_ns
        self.budget: dict[int, int] = {}  # replays still expected at last_ns (while resuming)
        self.resuming = False


class ResumeDeduper:
    """Drops lines replayed after a follow stream is resumed with ``since=``; keeps new ones.

    State per task: ``last_ns`` (the newest timestamp accepted) and a small multiset of text
    hashes seen at exactly ``last_ns`` (at most ``max_same_ns`` distinct entries).

    Rule for ``accept(task_id, ts_ns, text)``:

    * ``ts_ns == 0`` (no timestamp) or a task never seen -> accept.
    * Live (no reconnect since the task's last line): always accept. ``ts_ns > last_ns``
      starts a new multiset; ``== last_ns`` counts the text; ``< last_ns`` (the task's clock
      stepped back) is accepted and leaves ``last_ns`` at the maximum.
    * After :meth:`mark_reconnect` the task is *resuming* and every text hash seen at
      ``last_ns`` becomes a replay budget:

      - ``ts_ns < last_ns`` -> drop (the daemon is replaying older lines),
      - ``ts_ns == last_ns`` -> drop if that text still has budget (consuming one), else
        accept (a genuinely new line in the same nanosecond, e.g. a 3rd identical line),
      - ``ts_ns > last_ns`` -> accept and end resuming for that task.

    So nothing is dropped outside the replay window, and inside it only lines that are not
    newer than what was already shown. Lines from a new task (even with an older clock) are
    never dropped.
    """

    __slots__ = ("_marks", "_max_same_ns")

    def __init__(self, *, max_same_ns: int = 64) -> None:
        self._marks: dict[str, _TaskMark] = {}
        self._max_same_ns = max_same_ns

    def accept(self, task_id: str, ts_ns: int, text: str) -> bool:
        if ts_ns <= 0:
            return True
        mark = self._marks.get(task_id)
        key = hash(text)
        if mark is None:
            self._marks[task_id] = _TaskMark(ts_ns, key)
            return True
        if ts_ns > mark.last_ns:
            mark.last_ns = ts_ns
            mark.counts = {key: 1}
            mark.budget = {}
            mark.resuming = False
            return True
        if ts_ns < mark.last_ns:
            return not mark.resuming
        # Same nanosecond as the newest line already accepted.
        if mark.resuming:
            left = mark.budget.get(key, 0)
            if left:
                mark.budget[key] = left - 1
                return False
        if key in mark.counts or len(mark.counts) < self._max_same_ns:
            mark.counts[key] = mark.counts.get(key, 0) + 1
        return True

    def mark_reconnect(self, task_ids: Iterable[str] | None = None) -> None:
        """The stream carrying these tasks (None = all known tasks) was re-opened with since=."""
        marks = (
            self._marks.values()
            if task_ids is None
            else (m for t in task_ids if (m := self._marks.get(t)) is not None)
        )
        for mark in marks:
            mark.resuming = True
            mark.budget = dict(mark.counts)

    def last_ns(self, task_id: str) -> int | None:
        mark = self._marks.get(task_id)
        return None if mark is None else mark.last_ns

    def since_ns(self, task_ids: Iterable[str] | None = None, *, margin_ns: int = 0) -> int | None:
        """The ``since`` to resume with: the oldest ``last_ns`` of these tasks minus a margin.

        The margin (e.g. a few seconds) covers clock skew between nodes; replays it causes are
        dropped by :meth:`accept`. None when no task has been seen.
        """
        if task_ids is None:
            values = [m.last_ns for m in self._marks.values()]
        else:
            values = [m.last_ns for t in task_ids if (m := self._marks.get(t)) is not None]
        return max(0, min(values) - margin_ns) if values else None

    def forget(self, task_id: str) -> None:
        self._marks.pop(task_id, None)

    def __len__(self) -> int:
        return len(self._marks)


# --------------------------------------------------------------------------------------------
# --since
# --------------------------------------------------------------------------------------------

_GO_UNITS: Final[dict[str, int]] = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # µs (micro sign)
    "\u03bcs": 1_000,  # μs (Greek mu)
    "ms": 1_000_000,
    "s": NS_PER_S,
    "m": 60 * NS_PER_S,
    "h": 3600 * NS_PER_S,
}
_DAYLIKE_UNITS: Final = frozenset({"d", "day", "days", "w", "wk", "week", "weeks", "y", "mo"})
_DURATION_SHAPE_RE: Final = re.compile(
    "[-+]?(?:(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)[a-zA-Z\u00b5\u03bc]+)+"
)
_DURATION_PART_RE: Final = re.compile("([0-9]*)(?:\\.([0-9]*))?([a-zA-Z\u00b5\u03bc]+)")
_UNIX_RE: Final = re.compile(r"([-+]?\d+)(?:\.(\d+))?", re.ASCII)
_SINCE_TS_RE: Final = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)"
    r"(?:T(\d\d)(?::(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?)?"
    r"(Z|z|[+-]\d\d:\d\d)?",
    re.ASCII,
)


def parse_duration_ns(value: str) -> int:
    """Parse a Go duration (``90s``, ``1h30m``, ``1.5h``, ``300ms``) to nanoseconds.

    Raises ValueError with a readable message; days/weeks are rejected explicitly since Go
    (and therefore docker) has no such unit.
    """
    if value == "0":
        return 0
    if _DURATION_SHAPE_RE.fullmatch(value) is None:
        raise ValueError(f"invalid duration {value!r}")
    sign = -1 if value.startswith("-") else 1
    body = value.lstrip("+-")
    total = 0
    for m in _DURATION_PART_RE.finditer(body):
        whole, frac, unit = m.group(1), m.group(2) or "", m.group(3)
        scale = _GO_UNITS.get(unit)
        if scale is None:
            if unit.lower() in _DAYLIKE_UNITS:
                raise ValueError(
                    f"invalid duration {value!r}: days/weeks are not Go duration units "
                    f"(docker accepts ns, us, ms, s, m, h); use hours, e.g. "
                    f"{_days_hint(whole)}h"
                )
            raise ValueError(
                f"invalid duration {value!r}: unknown unit {unit!r} "
                f"(valid units: ns, us, ms, s, m, h)"
            )
        total += int(whole or "0") * scale
        if frac:
            total += int(frac) * scale // 10 ** len(frac)
    return sign * total


def _days_hint(whole: str) -> int:
    return int(whole or "1") * 24


def parse_since(value: str, now_ns: int, *, local_offset_s: int = 0) -> int:
    """Parse a ``--since`` value like docker/cli ``timetypes.GetTimestamp`` -> unix ns.

    Accepts a Go duration relative to ``now_ns`` (``5m``, ``1h30m``, ``90s``; like the CLI the
    result is floored to whole seconds), RFC 3339 (``2026-11-25T12:00:00Z``, ``…+01:00``,
    fractional seconds up to ns), the shorter ``2026-11-25T12``/``2026-11-25T12:00`` forms,
    a date ``2026-11-25``, and unix seconds ``1795610033`` / ``1795610033.5``. Timestamps
    without a zone are local time, given as ``local_offset_s`` (seconds east of UTC; default
    UTC — this module does no IO, the caller supplies the offset). Raises ValueError.
    """
    value = value.strip()
    if not value:
        raise ValueError("empty --since value")
    if value != "0" and _DURATION_SHAPE_RE.fullmatch(value):
        delta = parse_duration_ns(value)
        return (now_ns - delta) // NS_PER_S * NS_PER_S
    m = _SINCE_TS_RE.fullmatch(value)
    if m is not None:
        return _since_timestamp(value, m, local_offset_s)
    u = _UNIX_RE.fullmatch(value)
    if u is not None:
        frac = (u.group(2) or "")[:9].ljust(9, "0")
        return int(u.group(1)) * NS_PER_S + int(frac)
    if "-" in value or ":" in value:
        raise ValueError(
            f"invalid --since timestamp {value!r} (expected RFC 3339 such as "
            f"2026-11-25T12:00:00Z, a date 2026-11-25, or unix seconds)"
        )
    raise ValueError(
        f"failed to parse --since {value!r} as a time or a duration "
        f"(examples: 10m, 1h30m, 2026-11-25T12:00:00Z, 2026-11-25, 1795610033.5)"
    )


def _since_timestamp(value: str, m: re.Match[str], local_offset_s: int) -> int:
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    hour, minute, second = (int(m.group(i) or "0") for i in (4, 5, 6))
    try:
        when = _dt.datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise ValueError(f"invalid --since timestamp {value!r}: {exc}") from None
    secs = calendar.timegm(when.timetuple())
    zone = m.group(8)
    if zone is None:
        secs -= local_offset_s
    elif zone not in ("Z", "z"):
        zh, zm = int(zone[1:3]), int(zone[4:6])
        if zh > 23 or zm > 59:
            raise ValueError(f"invalid --since timestamp {value!r}: bad zone offset {zone}")
        off = zh * 3600 + zm * 60
        secs -= off if zone[0] == "+" else -off
    frac = m.group(7)
    return secs * NS_PER_S + (int(frac.ljust(9, "0")) if frac else 0)


def format_since(ns: int) -> str:
    """Unix ns -> the daemon's ``since=`` query form ``<seconds>.<nanoseconds 9 digits>``."""
    return f"{ns // NS_PER_S}.{ns % NS_PER_S:09d}"


# --------------------------------------------------------------------------------------------
# Search / filter
# --------------------------------------------------------------------------------------------


class LineFilter:
    """Substring or regex search over :attr:`LogLine.text` (the sanitised text).

    An empty pattern is "no filter": every line matches (``invert`` is ignored). ``spans``
    gives the non-overlapping, non-empty match ranges in a text for highlighting (independent
    of ``invert``). A bad regex raises ValueError with a readable message.
    """

    __slots__ = ("_invert", "_pattern", "_regex", "_rx")

    def __init__(
        self,
        pattern: str,
        *,
        regex: bool = False,
        ignore_case: bool = False,
        invert: bool = False,
    ) -> None:
        self._pattern = pattern
        self._regex = regex
        self._invert = invert
        flags = re.IGNORECASE if ignore_case else 0
        source = pattern if regex else re.escape(pattern)
        try:
            self._rx: re.Pattern[str] | None = re.compile(source, flags) if pattern else None
        except re.error as exc:
            where = f" at position {exc.pos}" if exc.pos is not None else ""
            raise ValueError(f"invalid regular expression {pattern!r}: {exc.msg}{where}") from None

    @property
    def pattern(self) -> str:
        return self._pattern

    @property
    def active(self) -> bool:
        return self._rx is not None

    def matches_text(self, text: str) -> bool:
        rx = self._rx
        if rx is None:
            return True
        return (rx.search(text) is None) if self._invert else (rx.search(text) is not None)

    def matches(self, line: LogLine) -> bool:
        return self.matches_text(line.text)

    def spans(self, text: str) -> list[tuple[int, int]]:
        rx = self._rx
        if rx is None:
            return []
        return [m.span() for m in rx.finditer(text) if m.end() > m.start()]


# --------------------------------------------------------------------------------------------
# Colours
# --------------------------------------------------------------------------------------------


def service_colour_index(name: str, palette_size: int) -> int:
    """A colour slot for a service name, stable across runs (CRC-32, not the salted hash())."""
    if palette_size < 1:
        raise ValueError(f"palette_size must be >= 1, got {palette_size}")
    return zlib.crc32(name.encode("utf-8", "surrogatepass")) % palette_size


# --------------------------------------------------------------------------------------------
# Benchmark helper (not used at runtime)
# --------------------------------------------------------------------------------------------


def sanitize_throughput(seconds: float = 0.5) -> dict[str, float]:
    """Measure :func:`sanitize` lines/s on typical and hostile ~110-char lines.

    For benchmarks; uses ``time.perf_counter`` (imported lazily: this is the only clock use).
    """
    import time

    typical = (
        b"2026-11-25 12:36:07,885 INFO  [http-nio-8080-exec-7] c.e.api.OrderController - "
        b"GET /api/orders/4711 200 12ms"
    )
    coloured = b"\x1b[32mINFO\x1b[0m " + typical[:90] + b" \x1b[1;31mERR\x1b[0m"
    tabbed = typical[:40] + b"\t" + typical[40:80] + b"\t" + typical[80:]
    hostile = (
        b"\x1b[2J\x1b[H\x1b]0;pwned\x07ok\x1b]52;c;ZXZpbA==\x07\x9b2J\r\x08\x00 \xe2\x80\xae"
        b"evil\xff\xfe \x1bP+q\x1b\\ \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x1b[31mred\x1b[0m"
    )
    cases: dict[str, bytes | str] = {
        "typical_bytes": typical,
        "typical_str": typical.decode(),
        "typical_cjk_str": "日志 " + typical.decode()[:100],
        "coloured_bytes": coloured,
        "coloured_keep_sgr": coloured,
        "tabbed_bytes": tabbed,
        "hostile_bytes": hostile,
        "hostile_keep_sgr": hostile,
    }
    results: dict[str, float] = {}
    for name, line in cases.items():
        keep = name.endswith("keep_sgr")
        n = 0
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            for _ in range(1000):
                sanitize(line, keep_sgr=keep)
            n += 1000
            now = time.perf_counter()
            if now >= deadline:
                break
        results[name] = n / (now - start)
    return results


if __name__ == "__main__":  # pragma: no cover
    for case, rate in sanitize_throughput().items():
        print(f"{case:22s} {rate:12,.0f} lines/s")
