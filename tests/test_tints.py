"""Service tints: never mistaken for a task state's colour, and neighbours tell apart, in
truecolour and as a 256-colour terminal shows them (Rich maps every colour to the nearest
xterm-256 one there, tints and state colours alike)."""

from __future__ import annotations

import math
import re
import zlib

import pytest
from rich.color import Color as RichColor
from rich.color import ColorSystem
from textual.app import App
from textual.color import Color, rgb_to_lab

from swarmtui.model.grid import SERVICE_TINTS, service_tints
from swarmtui.model.types import Service
from swarmtui.paths import stylesheets

STATE_VARIABLES = ("error", "text-error", "warning", "text-warning", "success", "text-success")
MIN_FROM_STATE = 30.0  # CIE76 delta E: clearly another colour
MIN_STATE_HUE = 30.0  # degrees of Lab hue away from red/orange/green
MIN_BETWEEN_TINTS = 28.0
SYSTEMS = ("truecolor", "256")
DEMO = ("monitoring_grafana", "monitoring_node-exporter", "ops_cron-backup", "ops_gpu-job",
        "shop_api", "shop_db", "shop_web", "whoami")


def palette(sheet: str, prefix: str) -> list[str]:
    path = next(p for p in stylesheets() if p.name == sheet)
    found = re.findall(rf"\.{prefix}--tint-(\d+) \{{ color: (#[0-9a-fA-F]{{6}}); \}}",
                       path.read_text())
    assert [int(i) for i, _ in found] == list(range(SERVICE_TINTS)), found
    return [c for _, c in found]


def as_shown(colour: str, system: str) -> str:
    """``colour`` as a terminal of colour ``system`` shows it (Rich's downgrade, which is
    what Textual's console applies)."""
    if system == "truecolor":
        return colour
    triplet = RichColor.parse(colour).downgrade(ColorSystem.EIGHT_BIT).get_truecolor()
    return triplet.hex


def delta_e(a: str, b: str) -> float:
    la, lb = rgb_to_lab(Color.parse(a)), rgb_to_lab(Color.parse(b))
    return math.dist(la, lb)


def lab_hue(colour: str) -> float:
    lab = rgb_to_lab(Color.parse(colour))
    return math.degrees(math.atan2(lab.b, lab.a)) % 360


def hue_gap(a: float, b: float) -> float:
    d = abs(a - b) % 360
    return min(d, 360 - d)


def state_colours() -> dict[str, str]:
    variables = App().get_css_variables()
    return {name: variables[name] for name in STATE_VARIABLES}


def test_grid_and_logs_share_one_palette() -> None:
    assert palette("grid.tcss", "task-grid") == palette("logs.tcss", "log-view")


@pytest.mark.parametrize("system", SYSTEMS)
@pytest.mark.parametrize("tint", palette("grid.tcss", "task-grid"))
def test_no_tint_near_a_state_colour(tint: str, system: str) -> None:
    tint = as_shown(tint, system)
    for name, colour in state_colours().items():
        colour = as_shown(colour, system)
        assert delta_e(tint, colour) >= MIN_FROM_STATE, (tint, name, colour)
        assert hue_gap(lab_hue(tint), lab_hue(colour)) >= MIN_STATE_HUE, (tint, name, colour)


@pytest.mark.parametrize("system", SYSTEMS)
def test_tints_differ_from_each_other(system: str) -> None:
    tints = [as_shown(t, system) for t in palette("grid.tcss", "task-grid")]
    for i, a in enumerate(tints):
        for b in tints[i + 1 :]:
            assert delta_e(a, b) >= MIN_BETWEEN_TINTS, (a, b)


def test_as_shown_is_the_xterm_palette() -> None:
    assert as_shown("#25f4e9", "256") == "#00ffd7"  # xterm 50
    assert as_shown("#5f87ff", "256") == "#5f87ff"  # an xterm colour stays itself


def test_tints_are_xterm_colours_so_256_colours_show_them_unchanged() -> None:
    for tint in palette("grid.tcss", "task-grid"):
        assert as_shown(tint, "256") == tint.lower(), tint


def services(names: list[str]) -> dict[str, Service]:
    return {f"id-{n}": Service(id=f"id-{n}", version=1, name=n, image="x", mode="replicated",
                               replicas=1) for n in names}


def test_demo_services_all_get_their_own_tint() -> None:
    tints = service_tints(services(list(DEMO)))
    assert len(set(tints.values())) == len(DEMO)


def test_services_in_name_order_never_share_a_tint_within_a_run() -> None:
    names = [f"stack{i // 5}_svc-{zlib.crc32(str(i).encode()):x}" for i in range(60)]
    tints = service_tints(services(names))
    ordered = [tints[f"id-{n}"] for n in sorted(names)]
    for i in range(len(ordered) - SERVICE_TINTS + 1):
        window = ordered[i : i + SERVICE_TINTS]
        assert len(set(window)) == SERVICE_TINTS, (i, window)
