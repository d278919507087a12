"""Shared fixtures. The real swarm lab comes from the lab_plugin (tests/lab_plugin.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["lab_plugin"]

FIXTURES = Path(__file__).parent / "fixtures" / "engine"
API_VERSIONS = ("v1.41", "v1.52")


def load_fixture(version: str, name: str) -> Any:
    path = FIXTURES / version / name
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return json.loads(path.read_text())


@pytest.fixture(params=API_VERSIONS)
def api_version(request: pytest.FixtureRequest) -> str:
    return str(request.param)
