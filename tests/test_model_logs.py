"""Tests for the pure log model (swarmtui.model.logs)."""

from __future__ import annotations

import calendar
import random
import re
import struct
import zlib
from pathlib import Path

import pytest

from swarmtui.model.logs import (
    DAEMON,
    ESC_MARK,
    NS_PER_S,
    STDERR,
    STDOUT,
    Frame,
    FrameDecoder,
    FrameError,
    LineFilter,
    LogLine,
    LogRing,
    ResumeDeduper,
    format_line,
    format_prefix,
    format_since,
    merge_by_time,
    parse_details,
    parse_duration_ns,
    parse_payload,
    parse_rfc3339_ns,
    parse_since,
    sanitize,
    sanitize_throughput,
    service_colour_index,
    stream_name,
    truncate_id,
)

# docker-api/lab/svc_logs_raw.bin: GET /v1.41/services/w8/logs?stdout=1&stderr=1&tail=1
# &details=1&timestamps=1 against the 3-node lab (4 frames, one per task). Embedded so the
# test does not depend on the reference directory; compared with it when present.
CAPTURE = bytes.fromhex(
    "01000000000000c8323032362d31312d32355431323a33363a30372e3838353137383334305a20636f6d2e64"
    "6f636b65722e737761726d2e6e6f64652e69643d76646463647079736931397876716a713562397165707269"
    "382c636f6d2e646f636b65722e737761726d2e736572766963652e69643d333972676d696a6e7a7730737a64"
    "683061776863623978697a2c636f6d2e646f636b65722e737761726d2e7461736b2e69643d316e376a386c6b"
    "617a337938703771747066716d7438317174203535313563376530666634320a01000000000000c832303236"
    "2d31312d32355431323a33363a30372e3935353238373730345a20636f6d2e646f636b65722e737761726d2e"
    "6e6f64652e69643d706e3173787264743867657230797139396864767a657a62372c636f6d2e646f636b6572"
    "2e737761726d2e736572766963652e69643d333972676d696a6e7a7730737a64683061776863623978697a2c"
    "636f6d2e646f636b65722e737761726d2e7461736b2e69643d33796937657a7373366269336f383772357738"
    "337572667732203132386263363935373766640a01000000000000c8323032362d31312d32355431323a3336"
    "3a30372e3835303439313732305a20636f6d2e646f636b65722e737761726d2e6e6f64652e69643d69667874"
    "6a336477747666746f79306e7a30717933657a65792c636f6d2e646f636b65722e737761726d2e7365727669"
    "63652e69643d333972676d696a6e7a7730737a64683061776863623978697a2c636f6d2e646f636b65722e73"
    "7761726d2e7461736b2e69643d69753775786a69707a6571793632686666703769736f686c62203237633836"
    "396334333038640a01000000000000c8323032362d31312d32355431323a33363a30372e3938363834393836"
    "335a20636f6d2e646f636b65722e737761726d2e6e6f64652e69643d706e3173787264743867657230797139"
    "396864767a657a62372c636f6d2e646f636b65722e737761726d2e736572766963652e69643d333972676d69"
    "6a6e7a7730737a64683061776863623978697a2c636f6d2e646f636b65722e737761726d2e7461736b2e6964"
    "3d6279336d347863326262356834627267733435727061616963206265343834326439633438300a"
)
CAPTURE_FILE = Path("/work/shared/reference/docker-api/lab/svc_logs_raw.bin")

W8_ID = "39rgmijnzw0szdh0awhcb9xiz"
# tasks_w8.json / nodes.json of the lab
TASK_SLOTS = {
    "1n7j8lkaz3y8p7qtpfqmt81qt": 3,
    "3yi7ezss6bi3o87r5w83urfw2": 1,
    "by3m4xc2bb5h4brgs45rpaaic": 4,
    "iu7uxjipzeqy62hffp7isohlb": 2,
}
NODE_NAMES = {
    "ifxtj3dwtvftoy0nz0qy3ezey": "lab-node2",
    "pn1sxrdt8ger0yq99hdvzezb7": "lab-node3",
    "vddcdpysi19xvqjq5b9qepri8": "lab-node1",
}
EXPECTED_MESSAGES = [b"5515c7e0ff42", b"128bc69577fd", b"27c869c4308d", b"be4842d9c480"]


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def utc_ns(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, ns: int = 0) -> int:
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * NS_PER_S + ns


def make_line(text: str = "x", **kw: object) -> LogLine:
    fields: dict[str, object] = {
        "seq": -1,
        "ts_ns": 0,
        "timestamp": "",
        "stream": "stdout",
        "service_id": W8_ID,
        "service_name": "w8",
        "task_id": "1n7j8lkaz3y8p7qtpfqmt81qt",
        "slot": 3,
        "node_id": "vddcdpysi19xvqjq5b9qepri8",
        "node_name": "lab-node1",
        "text": text,
    }
    fields.update(kw)
    return LogLine(**fields)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# Framing
# ------------------------------------------------------------------------------------------


def test_embedded_capture_matches_reference_file() -> None:
    if not CAPTURE_FILE.exists():
        pytest.skip("reference capture not available")
    assert CAPTURE_FILE.read_bytes() == CAPTURE


def test_capture_all_at_once() -> None:
    dec = FrameDecoder()
    frames = dec.feed(CAPTURE)
    assert len(frames) == 4
    assert all(f.stream == STDOUT and len(f.payload) == 200 for f in frames)
    assert dec.pending == 0
    assert dec.flush() == []
    assert not dec.fell_back


def test_capture_one_byte_at_a_time() -> None:
    dec = FrameDecoder()
    frames: list[Frame] = []
    for i in range(len(CAPTURE)):
        frames.extend(dec.feed(CAPTURE[i : i + 1]))
    assert frames == FrameDecoder().feed(CAPTURE)


def test_capture_random_chunking() -> None:
    expected = FrameDecoder().feed(CAPTURE)
    rng = random.Random(1234)
    for _ in range(200):
        dec = FrameDecoder()
        got: list[Frame] = []
        pos = 0
        while pos < len(CAPTURE):
            step = rng.randint(0, 40)
            got.extend(dec.feed(CAPTURE[pos : pos + step]))
            pos += step
        assert got == expected


def test_capture_parses_like_the_cli() -> None:
    records = [
        parse_payload(f.payload, timestamps=True, details=True)
        for f in FrameDecoder().feed(CAPTURE)
    ]
    assert [r.message for r in records] == EXPECTED_MESSAGES
    first = records[0]
    assert first.timestamp == "2026-11-25T12:36:07.885178340Z"
    assert first.ts_ns == utc_ns(2026, 11, 25, 12, 36, 7, 885178340)
    assert first.node_id == "vddcdpysi19xvqjq5b9qepri8"
    assert first.service_id == W8_ID
    assert first.task_id == "1n7j8lkaz3y8p7qtpfqmt81qt"
    assert not first.partial
    assert dict(first.details) == {
        "com.docker.swarm.node.id": "vddcdpysi19xvqjq5b9qepri8",
        "com.docker.swarm.service.id": W8_ID,
        "com.docker.swarm.task.id": "1n7j8lkaz3y8p7qtpfqmt81qt",
    }
    lines = [
        make_line(
            sanitize(r.message),
            ts_ns=r.ts_ns,
            timestamp=r.timestamp,
            task_id=r.task_id,
            slot=TASK_SLOTS[r.task_id],
            node_id=r.node_id,
            node_name=NODE_NAMES[r.node_id],
        )
        for r in records
    ]
    assert [format_line(ln, replicas=4) for ln in lines] == [
        "w8.3.1n7j8lkaz3y8@lab-node1    | 5515c7e0ff42",
        "w8.1.3yi7ezss6bi3@lab-node3    | 128bc69577fd",
        "w8.2.iu7uxjipzeqy@lab-node2    | 27c869c4308d",
        "w8.4.by3m4xc2bb5h@lab-node3    | be4842d9c480",
    ]
    assert format_line(lines[0], replicas=4, task_ids=False) == "w8.3@lab-node1    | 5515c7e0ff42"
    assert (
        format_line(lines[0], replicas=4, no_trunc=True)
        == "w8.3.1n7j8lkaz3y8p7qtpfqmt81qt@lab-node1    | 5515c7e0ff42"
    )
    # --details: the swarm keys are consumed, nothing remains -> an extra space [lab].
    assert (
        format_line(lines[0], replicas=4, details=records[0].details)
        == "w8.3.1n7j8lkaz3y8@lab-node1    |  5515c7e0ff42"
    )
    assert (
        format_line(lines[0], replicas=4, timestamps=True)
        == "2026-11-25T12:36:07.885178340Z w8.3.1n7j8lkaz3y8@lab-node1    | 5515c7e0ff42"
    )


def test_stderr_daemon_and_empty_frames() -> None:
    err = b"Error grabbing logs: rpc error: code = Unknown desc = warning: incomplete log stream\n"
    data = frame(STDERR, b"oops\n") + frame(1, b"") + frame(DAEMON, err)
    frames = FrameDecoder().feed(data)
    assert frames == [Frame(STDERR, b"oops\n"), Frame(STDOUT, b""), Frame(DAEMON, err)]
    assert [stream_name(f.stream) for f in frames] == ["stderr", "stdout", "daemon"]
    assert stream_name(0) == "stdout"
    rec = parse_payload(err, timestamps=True, details=True)
    assert rec.message == err[:-1]
    assert rec.ts_ns == 0 and rec.timestamp == "" and not rec.details
    line = make_line(sanitize(rec.message), stream="daemon", task_id="", slot=None)
    assert format_line(line).startswith("error from daemon in stream: Error grabbing logs: ")


def test_partial_payloads_over_16k() -> None:
    ts = "2026-11-25T12:00:00.000000001Z"
    det = "com.docker.swarm.node.id=n,com.docker.swarm.service.id=s,com.docker.swarm.task.id=t"
    part1 = f"{ts} {det} ".encode() + b"a" * 16384
    part2 = f"{ts} {det} ".encode() + b"b" * 100 + b"\n"
    dec = FrameDecoder()
    frames = dec.feed(frame(1, part1)[:5000])
    frames += dec.feed(frame(1, part1)[5000:] + frame(1, part2))
    recs = [parse_payload(f.payload, timestamps=True, details=True) for f in frames]
    assert [r.partial for r in recs] == [True, False]
    assert recs[0].message == b"a" * 16384
    assert recs[1].message == b"b" * 100
    assert recs[0].ts_ns == recs[1].ts_ns == utc_ns(2026, 11, 25, 12, ns=1)
    assert recs[0].task_id == "t"


def test_flush_discards_incomplete_mux_frame() -> None:
    dec = FrameDecoder()
    assert dec.feed(frame(1, b"hello\n")[:-2]) == []
    assert dec.pending == 12
    assert dec.flush() == []
    assert dec.pending == 0


def test_tty_raw_mode() -> None:
    dec = FrameDecoder(raw=True)
    assert dec.raw
    assert dec.feed(b"hel") == []
    assert dec.feed(b"lo\r\nwor") == [Frame(STDOUT, b"hello\r\n")]
    assert dec.feed(b"ld") == []
    assert dec.feed(b"\n\nx") == [Frame(STDOUT, b"world\n"), Frame(STDOUT, b"\n")]
    assert dec.flush() == [Frame(STDOUT, b"x")]
    assert dec.flush() == []
    rec = parse_payload(b"hello\r\n", timestamps=False, details=False)
    assert rec.message == b"hello" and not rec.partial
    tail = parse_payload(b"x", timestamps=False, details=False)
    assert tail.message == b"x" and tail.partial


def test_tty_raw_one_byte_at_a_time() -> None:
    data = b"line one\r\nline two\r\n\xe2\x82\xac three\n"
    dec = FrameDecoder(raw=True)
    out: list[Frame] = []
    for i in range(len(data)):
        out += dec.feed(data[i : i + 1])
    assert [f.payload for f in out] == [b"line one\r\n", b"line two\r\n", b"\xe2\x82\xac three\n"]


def test_tty_raw_long_tail_is_chunked_on_utf8_boundaries() -> None:
    dec = FrameDecoder(raw=True, max_line=10)
    data = "€" * 20  # 3 bytes each, no newline (a progress bar)
    frames = dec.feed(data.encode()) + dec.flush()
    assert all(len(f.payload) <= 10 for f in frames)
    assert "".join(f.payload.decode("utf-8") for f in frames) == data  # no split characters


def test_bad_header_falls_back_to_raw() -> None:
    data = b"2026-11-25T12:00:00.000000000Z hello\nworld\n"
    dec = FrameDecoder()
    frames = dec.feed(data[:3])
    frames += dec.feed(data[3:])
    assert dec.fell_back and dec.raw
    assert [f.payload for f in frames] == [data[:37], b"world\n"]


def test_bad_header_after_good_frames_and_oversize() -> None:
    dec = FrameDecoder(max_frame=100)
    frames = dec.feed(frame(1, b"ok\n") + struct.pack(">BxxxL", 1, 101) + b"x\n")
    assert frames[0] == Frame(STDOUT, b"ok\n")
    assert dec.fell_back
    assert frames[1].payload.endswith(b"x\n")


def test_bad_header_raises_without_fallback() -> None:
    dec = FrameDecoder(fallback_raw=False)
    with pytest.raises(FrameError, match="not a multiplexed log stream"):
        dec.feed(b"\x07\x00\x00\x00\x00\x00\x00\x01x")
    with pytest.raises(FrameError):
        FrameDecoder(fallback_raw=False).feed(b"\x01\x00\x01\x00\x00\x00\x00\x01x")
    # good frames before the bad header are returned first, the error comes next call
    dec = FrameDecoder(fallback_raw=False)
    assert dec.feed(frame(1, b"ok\n") + b"garbage!") == [Frame(STDOUT, b"ok\n")]
    with pytest.raises(FrameError, match="67 61 72 62"):
        dec.feed(b"")
    with pytest.raises(FrameError):
        dec.flush()


# ------------------------------------------------------------------------------------------
# Payload parsing
# ------------------------------------------------------------------------------------------


def test_parse_payload_variants() -> None:
    rec = parse_payload(b"plain message\n", timestamps=False, details=False)
    assert (rec.timestamp, rec.ts_ns, dict(rec.details), rec.message, rec.partial) == (
        "",
        0,
        {},
        b"plain message",
        False,
    )
    # details without timestamps, url-escaped keys/values
    rec = parse_payload(b"a%3Db=c+d,tag=x%2Cy msg with spaces\n", timestamps=False, details=True)
    assert dict(rec.details) == {"a=b": "c d", "tag": "x,y"}
    assert rec.message == b"msg with spaces"
    # no attrs: the daemon writes an empty details token and a space
    rec = parse_payload(b" hello\n", timestamps=False, details=True)
    assert dict(rec.details) == {} and rec.message == b"hello"
    # a token that is not k=v pairs stays in the message
    rec = parse_payload(b"hello world\n", timestamps=False, details=True)
    assert dict(rec.details) == {} and rec.message == b"hello world"
    # no space at all: nothing is taken as details
    rec = parse_payload(b"a=b\n", timestamps=False, details=True)
    assert rec.message == b"a=b"
    # offset timestamp
    rec = parse_payload(b"2026-11-25T13:00:00.5+01:00 x\n", timestamps=True, details=False)
    assert rec.ts_ns == utc_ns(2026, 11, 25, 12, ns=500_000_000)
    assert rec.timestamp == "2026-11-25T13:00:00.5+01:00"
    # bad timestamp: the whole payload is the message
    rec = parse_payload(b"2026-13-45T99:00:00Z x\n", timestamps=True, details=True)
    assert rec.ts_ns == 0 and rec.message == b"2026-13-45T99:00:00Z x"
    # empty payload
    rec = parse_payload(b"", timestamps=True, details=True)
    assert rec.message == b"" and rec.partial


def test_details_are_read_only_and_cached() -> None:
    a = parse_details(b"k=v")
    b = parse_details(b"k=v")
    assert a is b and a is not None
    with pytest.raises(TypeError):
        a["k"] = "w"  # type: ignore[index]
    assert parse_details(b"nope") is None


def test_parse_rfc3339_ns() -> None:
    assert parse_rfc3339_ns("1970-01-01T00:00:00Z") == 0
    assert parse_rfc3339_ns("2026-11-25T12:36:07.885178340Z") == utc_ns(
        2026, 11, 25, 12, 36, 7, 885178340
    )
    assert parse_rfc3339_ns("2026-11-25T12:36:07Z") == utc_ns(2026, 11, 25, 12, 36, 7)
    assert parse_rfc3339_ns("2026-11-25T12:36:07-02:30") == utc_ns(2026, 11, 25, 15, 6, 7)
    for bad in ("", "2026-02-30T00:00:00Z", "2026-11-25T25:00:00Z", "2026-11-25 12:00:00Z", "x"):
        assert parse_rfc3339_ns(bad) is None


def test_parse_payload_never_raises_on_garbage() -> None:
    rng = random.Random(7)
    prefix = b"2026-11-25T12:00:00.000000000Z "
    for _ in range(3000):
        n = rng.randint(0, 80)
        junk = bytes(rng.getrandbits(8) for _ in range(n))
        if rng.random() < 0.3:
            junk = prefix + junk
        for ts in (False, True):
            for det in (False, True):
                rec = parse_payload(junk, timestamps=ts, details=det)
                assert isinstance(rec.message, bytes)
                assert len(rec.message) <= len(junk)


# ------------------------------------------------------------------------------------------
# Sanitising
# ------------------------------------------------------------------------------------------

FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")
KEPT_SGR = re.compile("\x1b\\[[0-9;]*m")

HOSTILE: list[bytes | str] = [
    b"\x1b[2J\x1b[H\x1b[10;20Hmoved",  # clear screen, cursor moves
    b"\x1b[1A\x1b[2K\x1b[999C\x1b[?1049h\x1b[?25l",  # up, erase line, alt screen, hide cursor
    b"\x1b]52;c;ZWNobyBwd25lZA==\x07after",  # OSC 52 clipboard write (BEL)
    b"\x1b]52;c;ZWNobyBwd25lZA==\x1b\\after",  # OSC 52 clipboard write (ST)
    b"\x1b]0;owned title\x07",  # window title
    b"\x1b]2;owned title\x1b\\",
    b"\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\",  # hyperlink
    b"\x1b]0;unterminated title that never ends",
    b"\x9b2J",  # 8-bit CSI as a raw byte (invalid UTF-8)
    "\x9b2J\x9d0;title\x07\x9c",  # 8-bit CSI/OSC/ST as code points
    b"\xc2\x9b2J\xc2\x9d0;t\xc2\x9c",  # ... and UTF-8 encoded
    b"\x1bP+q544e\x1b\\",  # DCS (XTGETTCAP)
    b"\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\",
    b"\x1bc\x1b7\x1b8\x1b(B\x1b#8\x1b=\x1b",  # RIS, save/restore, charset, DECALN, lone ESC
    b"nul\x00byte",
    b"innocent text\rEVIL",  # carriage-return overwrite
    b"abc\x08\x08\x08xyz",  # backspace overwrite
    b"bell\x07\x0b\x0c\x0e\x0f\x1a\x18\x7f",
    "access\u202egnp.exe\u202c \u2066isolate\u2069 \u202aa\u202bb\u202dc",  # bidi
    b"invalid \xff\xfe\xc3\x28 \xed\xa0\x80 utf8",  # invalid UTF-8, encoded surrogate
    "lone \ud800 surrogate",
    "line\u2028sep\u2029para",
    b"\x1b[31mred\x1b[0m \x1b[38;5;196mx\x1b[38:2:1:2:3my\x1b[m",  # SGR
    b"\x1b[\x1b[31m\x1b]0;\x1b[32mtitle\x07",  # nested / broken
    b"\x1b\x1b[0m[2J",  # removing the SGR must not create a live CSI
]


def assert_safe(out: str, *, keep_sgr: bool = False) -> None:
    if keep_sgr:
        out = KEPT_SGR.sub("", out)
    assert FORBIDDEN.search(out) is None, repr(out)
    assert "\x1b" not in out


@pytest.mark.parametrize("keep_sgr", [False, True])
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_corpus_is_neutralised(case: bytes | str, keep_sgr: bool) -> None:
    out = sanitize(case, keep_sgr=keep_sgr)
    assert_safe(out, keep_sgr=keep_sgr)
    assert len(KEPT_SGR.sub("", out)) <= 4000


def test_what_neutralised_input_looks_like() -> None:
    assert sanitize(b"\x1b[2J\x1b[Hx") == f"{ESC_MARK}{ESC_MARK}x"
    assert sanitize(b"\x1b]52;c;ZWNobyBwd25lZA==\x07after") == f"{ESC_MARK}after"
    assert sanitize(b"\x1b]0;owned title\x07") == ESC_MARK
    assert sanitize(b"\x1b]0;unterminated title") == ESC_MARK
    assert sanitize(b"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == f"{ESC_MARK}link{ESC_MARK}"
    assert sanitize("\x9b2J") == ESC_MARK
    assert sanitize(b"\x9b2J") == "\ufffd2J"  # a lone 0x9b byte is invalid UTF-8
    assert sanitize(b"\x1bP+q544e\x1b\\ok") == f"{ESC_MARK}ok"
    assert sanitize(b"\x1bcreset") == f"{ESC_MARK}reset"
    assert sanitize(b"a\x00b") == "a\u2400b"  # ␀
    assert sanitize(b"safe\rEVIL") == "safe\u240dEVIL"  # ␍
    assert sanitize(b"abc\x08xyz") == "abc\u2408xyz"  # ␈
    assert sanitize(b"del\x7f") == "del\u2421"  # ␡
    assert sanitize("a\x85b") == f"a{ESC_MARK}b"  # other C1 (NEL)
    assert sanitize("x\u202egnp.exe") == "x\ufffdgnp.exe"
    assert sanitize("a\u2028b") == "a\u2424b"
    assert sanitize(b"bad \xff") == "bad \ufffd"
    assert sanitize(b"\x1b[1;31mERROR\x1b[0m: boom") == "ERROR: boom"  # colour: silent
    # removing the colour code joins ESC + "[2J" into a CSI, which is then neutralised too
    assert sanitize(b"\x1b\x1b[0m[2J") == ESC_MARK


def test_keep_sgr() -> None:
    assert sanitize(b"\x1b[1;31mERROR\x1b[0m: boom", keep_sgr=True) == (
        "\x1b[1;31mERROR\x1b[0m: boom\x1b[0m"
    )
    out = sanitize(b"\x1b[31mred\x1b[2Jclear\x1b]0;t\x07", keep_sgr=True)
    assert out == f"\x1b[31mred{ESC_MARK}clear{ESC_MARK}\x1b[0m"
    # colon/8-bit SGR forms are not kept (removed silently)
    assert sanitize("\x1b[38:2:1:2:3mx\x9b1m", keep_sgr=True) == "x"
    assert sanitize(b"no escapes here", keep_sgr=True) == "no escapes here"


def test_tabs_expand_to_8_columns() -> None:
    assert sanitize(b"a\tb") == "a       b"
    assert sanitize(b"abcdefgh\tX") == "abcdefgh        X"
    assert sanitize(b"\x1b[2Kab\tc") == f"{ESC_MARK}ab     c"
    # with keep_sgr the colour codes take no columns
    assert sanitize(b"\x1b[31mab\x1b[0m\tc", keep_sgr=True) == ("\x1b[31mab\x1b[0m      c\x1b[0m")


def test_truncation_is_visible_and_bounded() -> None:
    assert sanitize("a" * 5000) == "a" * 4000 + "… [+1000 chars]"
    assert sanitize("a" * 4000) == "a" * 4000
    assert sanitize("abcdef", max_chars=3) == "abc… [+3 chars]"
    out = sanitize("\x1b[31m" + "a" * 10 + "\x1b[0m" + "b" * 10, max_chars=15, keep_sgr=True)
    assert out == "\x1b[31m" + "a" * 10 + "\x1b[0m" + "b" * 5 + "\x1b[0m… [+5 chars]"
    with pytest.raises(ValueError):
        sanitize("x", max_chars=0)


def test_one_megabyte_lines() -> None:
    for big in (b"A" * 1_000_000, b"\x1b[2J" * 250_000, bytes(range(256)) * 4096):
        for keep in (False, True):
            out = sanitize(big, keep_sgr=keep)
            assert_safe(out, keep_sgr=keep)
            visible, _, suffix = out.partition("… [+")
            assert len(KEPT_SGR.sub("", visible)) <= 4000
            assert re.fullmatch(r"\d+ chars\]", suffix), suffix[:40]
    out = sanitize(b"A" * 1_000_000)
    assert out == "A" * 4000 + "… [+996000 chars]"


def test_random_bytes_fuzz() -> None:
    rng = random.Random(42)
    alphabet = (
        b"\x1b[]P_^X\\\x07\x9b\x9d\x9c\x90\x00\r\n\t\x08\x7f;0123456789mJHabc\xc2\xe2\x80\xae"
    )
    for _ in range(5000):
        n = rng.randint(0, 60)
        if rng.random() < 0.5:
            data = bytes(rng.choice(alphabet) for _ in range(n))
        else:
            data = bytes(rng.getrandbits(8) for _ in range(n))
        keep = rng.random() < 0.5
        out = sanitize(data, max_chars=40, keep_sgr=keep)
        assert_safe(out, keep_sgr=keep)
        visible = KEPT_SGR.sub("", out).partition("… [+")[0]
        assert len(visible) <= 40
        assert_safe(sanitize(data.decode("latin-1"), max_chars=40, keep_sgr=keep), keep_sgr=keep)


def test_clean_text_is_returned_unchanged() -> None:
    text = "2026-11-25 12:36:07,885 INFO  [main] c.e.App - Started in 3.2s ✓ 日本語 emoji 👍"
    assert sanitize(text) == text
    assert sanitize(text.encode()) == text


def test_sanitize_throughput_helper_runs() -> None:
    rates = sanitize_throughput(0.01)
    assert {"typical_bytes", "hostile_bytes"} <= rates.keys()
    assert all(r > 0 for r in rates.values())


# ------------------------------------------------------------------------------------------
# Prefixes
# ------------------------------------------------------------------------------------------


def test_format_prefix_matches_cli() -> None:
    tid = "1n7j8lkaz3y8p7qtpfqmt81qt"
    assert (
        format_prefix("w8", 3, tid, "lab-node1", replicas=4) == "w8.3.1n7j8lkaz3y8@lab-node1    | "
    )
    assert format_prefix("w8", 3, tid, "lab-node1", replicas=4, task_ids=False) == (
        "w8.3@lab-node1    | "
    )
    assert format_prefix("w8", 1, "3yi7ezss6bi3o87r5w83urfw2", "lab-node3", replicas=4) == (
        "w8.1.3yi7ezss6bi3@lab-node3    | "
    )
    # padding = len(str(replicas)) - len(str(slot))
    assert format_prefix("web", 3, tid, "n1", replicas=12) == "web.3.1n7j8lkaz3y8@n1     | "
    assert format_prefix("web", 12, tid, "n1", replicas=12) == "web.12.1n7j8lkaz3y8@n1    | "
    assert format_prefix("web", 3, tid, "n1", replicas=100, task_ids=False) == "web.3@n1      | "
    assert format_prefix("web", 100, tid, "n1", replicas=9) == "web.100.1n7j8lkaz3y8@n1    | "
    # global services: Slot 0, no padding
    assert format_prefix("agent", None, tid, "n1") == "agent.0.1n7j8lkaz3y8@n1    | "
    assert format_prefix("agent", 0, tid, "n1", task_ids=False) == "agent.0@n1    | "
    # control characters in names are neutralised
    assert "\x1b" not in format_prefix("w8", 1, tid, "evil\x1b]0;x\x07", replicas=1)


def test_truncate_id() -> None:
    assert truncate_id("1n7j8lkaz3y8p7qtpfqmt81qt") == "1n7j8lkaz3y8"
    assert truncate_id("sha256:0123456789abcdef") == "0123456789ab"
    assert truncate_id("short") == "short"


def test_format_line_details_sorted_and_unescaped() -> None:
    line = make_line("msg")
    details = {
        "com.docker.swarm.task.id": "x",
        "tag": "a b",
        "env": "X=1",
    }
    assert format_line(line, replicas=4, details=details) == (
        "w8.3.1n7j8lkaz3y8@lab-node1    | env=X=1,tag=a b msg"
    )


# ------------------------------------------------------------------------------------------
# Ring buffer
# ------------------------------------------------------------------------------------------


def test_ring_eviction_counts() -> None:
    ring = LogRing(3)
    assert (len(ring), ring.total, ring.dropped, ring.first_seq, ring.next_seq) == (0, 0, 0, 0, 0)
    stored = [ring.append(make_line(str(i))) for i in range(5)]
    assert [ln.seq for ln in stored] == [0, 1, 2, 3, 4]
    assert (len(ring), ring.total, ring.dropped, ring.first_seq) == (3, 5, 2, 2)
    assert ring.get(0) is None and ring.get(1) is None and ring.get(5) is None
    assert [ring.get(i).text for i in (2, 3, 4)] == ["2", "3", "4"]  # type: ignore[union-attr]
    assert [ln.seq for ln in ring.slice(0, 100)] == [2, 3, 4]
    assert [ln.seq for ln in ring.slice(3, 4)] == [3]
    assert ring.slice(4, 3) == []
    assert [ln.seq for ln in ring.tail(2)] == [3, 4]
    assert [ln.seq for ln in ring.tail(10)] == [2, 3, 4]
    assert ring.tail(0) == []
    assert [ln.seq for ln in ring] == [2, 3, 4]
    assert ring.total == ring.dropped + ring.cleared + len(ring)


def test_ring_wraparound_slices_against_a_model() -> None:
    rng = random.Random(3)
    for cap in (1, 2, 5, 16):
        ring = LogRing(cap)
        shadow: list[int] = []
        for i in range(60):
            if rng.random() < 0.1:
                ring.clear()
                shadow = []
            else:
                ring.extend([make_line(str(i))])
                shadow.append(ring.total - 1)
                shadow = shadow[-cap:]
            assert [ln.seq for ln in ring] == shadow
            assert ring.total == ring.dropped + ring.cleared + len(ring)
            for _ in range(5):
                a, b = rng.randint(-2, ring.total + 2), rng.randint(-2, ring.total + 2)
                assert [ln.seq for ln in ring.slice(a, b)] == [s for s in shadow if a <= s < b]
            for s in range(ring.total + 1):
                got = ring.get(s)
                assert (got.seq if got else None) == (s if s in shadow else None)


def test_ring_clear_keeps_counting() -> None:
    ring = LogRing(4)
    ring.extend(make_line() for _ in range(6))
    ring.clear()
    assert (len(ring), ring.total, ring.dropped, ring.cleared, ring.first_seq) == (0, 6, 2, 4, 6)
    assert ring.append(make_line()).seq == 6
    assert ring.get(6) is not None and ring.get(5) is None


def test_ring_keeps_matching_seq_objects() -> None:
    ring = LogRing(2)
    line = make_line(seq=0)
    assert ring.append(line) is line
    with pytest.raises(ValueError):
        LogRing(0)


# ------------------------------------------------------------------------------------------
# Resume de-duplication
# ------------------------------------------------------------------------------------------

T0 = utc_ns(2026, 11, 25, 12)


def test_dedupe_drops_replays_after_reconnect() -> None:
    d = ResumeDeduper()
    assert d.accept("t1", T0 + 1, "a")
    assert d.accept("t1", T0 + 2, "b")
    assert d.since_ns() == T0 + 2
    d.mark_reconnect()
    # since=T0 (second precision) -> daemon replays a and b
    assert not d.accept("t1", T0 + 1, "a")
    assert not d.accept("t1", T0 + 2, "b")
    assert d.accept("t1", T0 + 3, "c")
    # the window is over: a clock step back is a new line again
    assert d.accept("t1", T0 + 1, "late")


def test_dedupe_same_nanosecond_lines() -> None:
    d = ResumeDeduper()
    # two identical lines and one other line in the same ns (e.g. parts of a split line)
    assert d.accept("t1", T0, "x")
    assert d.accept("t1", T0, "x")
    assert d.accept("t1", T0, "y")
    d.mark_reconnect(["t1"])
    assert not d.accept("t1", T0, "x")
    assert not d.accept("t1", T0, "y")
    assert not d.accept("t1", T0, "x")
    # a third identical line at the same ns was never shown: genuinely new
    assert d.accept("t1", T0, "x")
    # a new text at the same ns is new too
    assert d.accept("t1", T0, "z")
    # and a second reconnect replays all five
    d.mark_reconnect()
    assert [d.accept("t1", T0, t) for t in ("x", "x", "y", "x", "z", "x")] == [
        False,
        False,
        False,
        False,
        False,
        True,
    ]


def test_dedupe_live_stream_never_drops() -> None:
    d = ResumeDeduper()
    assert d.accept("t1", T0 + 10, "a")
    assert d.accept("t1", T0 + 10, "a")  # same ns, same text, no reconnect: keep
    assert d.accept("t1", T0 + 5, "clock stepped back")  # same task, no reconnect: keep
    assert d.last_ns("t1") == T0 + 10
    assert d.accept("t1", 0, "no timestamp")
    d.mark_reconnect()
    assert d.accept("t1", 0, "no timestamp")  # cannot be de-duplicated: keep


def test_dedupe_new_task_with_older_clock() -> None:
    d = ResumeDeduper()
    assert d.accept("t1", T0 + 100, "a")
    d.mark_reconnect()
    # a task never seen before, on a node whose clock is behind: never dropped
    assert d.accept("t2", T0 + 1, "first line of new task")
    assert d.accept("t2", T0 + 2, "second")
    # t1 is still in its replay window
    assert not d.accept("t1", T0 + 50, "old")
    assert d.since_ns(["t1", "t2"], margin_ns=NS_PER_S) == T0 + 2 - NS_PER_S
    assert d.since_ns(["unknown"]) is None
    d.forget("t2")
    assert d.last_ns("t2") is None and len(d) == 1


def test_dedupe_reconnect_only_named_tasks() -> None:
    d = ResumeDeduper()
    d.accept("t1", T0, "a")
    d.accept("t2", T0, "a")
    d.mark_reconnect(["t1", "nope"])
    assert not d.accept("t1", T0, "a")
    assert d.accept("t2", T0, "a")


# ------------------------------------------------------------------------------------------
# --since
# ------------------------------------------------------------------------------------------

NOW = utc_ns(2026, 11, 25, 12, 0, 0, 123_456_789)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5m", utc_ns(2026, 11, 25, 11, 55, 0)),
        ("1h30m", utc_ns(2026, 11, 25, 10, 30, 0)),
        ("90s", utc_ns(2026, 11, 25, 11, 58, 30)),
        ("1.5h", utc_ns(2026, 11, 25, 10, 30, 0)),
        ("500ms", utc_ns(2026, 11, 25, 11, 59, 59)),  # floored to seconds like the CLI
        ("0", 0),
        ("2026-11-25T12:00:00Z", utc_ns(2026, 11, 25, 12)),
        ("2026-11-25T12:00:00+01:00", utc_ns(2026, 11, 25, 11)),
        ("2026-11-25T12:00:00.25Z", utc_ns(2026, 11, 25, 12, ns=250_000_000)),
        ("2026-11-25T12:00:00.123456789-00:30", utc_ns(2026, 11, 25, 12, 30, ns=123456789)),
        ("2026-11-25T12:00", utc_ns(2026, 11, 25, 12)),
        ("2026-11-25T12", utc_ns(2026, 11, 25, 12)),
        ("2026-11-25", utc_ns(2026, 11, 25)),
        ("1795610033", 1795610033 * NS_PER_S),
        ("1795610033.5", 1795610033 * NS_PER_S + 500_000_000),
        ("1795610033.000000001", 1795610033 * NS_PER_S + 1),
    ],
)
def test_parse_since(value: str, expected: int) -> None:
    assert parse_since(value, NOW) == expected


def test_parse_since_local_time() -> None:
    # naive timestamps are local time; the caller supplies the offset (here UTC+1)
    assert parse_since("2026-11-25T12:00:00", NOW, local_offset_s=3600) == utc_ns(2026, 11, 25, 11)
    assert parse_since("2026-11-25", NOW, local_offset_s=-3600) == utc_ns(2026, 11, 25, 1)
    assert parse_since("2026-11-25Z", NOW, local_offset_s=3600) == utc_ns(2026, 11, 25)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2d", "days/weeks are not Go duration units.*48h"),
        ("1h2d", "days/weeks"),
        ("3w", "days/weeks"),
        ("5M", "unknown unit 'M'"),
        ("5x", "unknown unit"),
        ("", "empty"),
        ("yesterday", "failed to parse"),
        ("2026-13-01", "invalid --since timestamp"),
        ("2026-02-30T00:00:00Z", "invalid --since timestamp"),
        ("2026-11-25T12:00:00+25:00", "bad zone offset"),
        ("12:00", "invalid --since timestamp"),
        ("1795610033.", "failed to parse"),
    ],
)
def test_parse_since_errors(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_since(value, NOW)


def test_parse_duration_ns() -> None:
    assert parse_duration_ns("1h2m3s4ms5us6ns") == (
        3600 * NS_PER_S + 2 * 60 * NS_PER_S + 3 * NS_PER_S + 4_000_000 + 5_000 + 6
    )
    assert parse_duration_ns("1\u00b5s") == parse_duration_ns("1\u03bcs") == 1000
    assert parse_duration_ns("-1.5s") == -1_500_000_000
    assert parse_duration_ns(".5m") == 30 * NS_PER_S
    with pytest.raises(ValueError):
        parse_duration_ns("5")


def test_format_since() -> None:
    assert format_since(1795610033 * NS_PER_S + 5) == "1795610033.000000005"
    assert format_since(0) == "0.000000000"
    assert parse_since(format_since(NOW), 0) == NOW


# ------------------------------------------------------------------------------------------
# Filters and colours
# ------------------------------------------------------------------------------------------


def test_line_filter_substring() -> None:
    f = LineFilter("error")
    assert f.active and f.pattern == "error"
    assert f.matches(make_line("an error occurred"))
    assert not f.matches(make_line("An ERROR occurred"))
    assert f.spans("error, error") == [(0, 5), (7, 12)]
    ci = LineFilter("error", ignore_case=True)
    assert ci.matches(make_line("An ERROR occurred"))
    assert ci.spans("Error eRRor") == [(0, 5), (6, 11)]
    # regex metacharacters are literal in substring mode
    assert LineFilter("a.b").matches_text("xa.by") and not LineFilter("a.b").matches_text("axb")


def test_line_filter_regex_and_invert() -> None:
    f = LineFilter(r"GET /api/\d+", regex=True)
    assert f.matches_text("GET /api/42 200")
    assert not f.matches_text("GET /api/x 200")
    inv = LineFilter("healthcheck", invert=True)
    assert inv.matches_text("GET /orders") and not inv.matches_text("GET /healthcheck")
    assert LineFilter("x*", regex=True).spans("abxxc") == [(2, 4)]  # empty matches skipped


def test_line_filter_empty_and_bad_regex() -> None:
    f = LineFilter("", invert=True)
    assert not f.active and f.matches_text("anything") and f.spans("anything") == []
    with pytest.raises(ValueError, match=r"invalid regular expression '\(unclosed'.*position"):
        LineFilter("(unclosed", regex=True)
    LineFilter("(unclosed")  # fine as a substring


def test_service_colour_index_is_stable() -> None:
    assert service_colour_index("w8", 8) == zlib.crc32(b"w8") % 8 == 0
    assert service_colour_index("stack_03_www01", 8) == 3
    assert all(0 <= service_colour_index(f"svc{i}", 5) < 5 for i in range(100))
    with pytest.raises(ValueError):
        service_colour_index("w8", 0)


def test_merge_by_time_is_stable_and_keeps_daemon_lines_in_place() -> None:
    def ln(sid: str, ns: int, text: str, stream: str = "stdout") -> LogLine:
        return LogLine(-1, ns, "", stream, sid, sid, "t" + sid, 1, "n", "n", text)  # type: ignore[arg-type]

    lines = [ln("a", 10, "a10"), ln("a", 30, "a30"), ln("a", 0, "a-daemon", "daemon"),
             ln("a", 30, "a30bis"), ln("b", 20, "b20"), ln("b", 30, "b30"), ln("b", 5, "b5")]
    assert [x.text for x in merge_by_time(lines)] == [
        "b5", "a10", "b20", "a30", "a-daemon", "a30bis", "b30"]
    assert merge_by_time([]) == []
