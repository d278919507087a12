"""The client's JSON decoding: orjson when installed, the collector paused only meanwhile."""

from __future__ import annotations

import gc

import pytest

from swarmtui.engine.client import collector_paused, decode_json


def test_decode_json_reads_a_listing_and_an_empty_body() -> None:
    assert decode_json(b'[{"ID": "t1", "Slot": 1, "Spec": {"x": null}}]') == [
        {"ID": "t1", "Slot": 1, "Spec": {"x": None}}
    ]
    assert decode_json(b"") is None and decode_json(b" \n") is None


def test_a_bad_body_raises_value_error_and_the_collector_runs_again() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError):  # orjson.JSONDecodeError and json's are ValueErrors
        decode_json(b"{not json")
    assert gc.isenabled()


def test_collector_paused_leaves_a_disabled_collector_disabled() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
