"""The images view (f3) with Pilot: list -> layers -> compare, on answers recorded from a lab
node (fixtures/engine/v1.41/images_lab.json) served by an in-memory engine, over the fixed
swarm (whose services all run busybox:lab). Snapshots at 80x24 and 200x60."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim_thread import threaded_demo
from test_images_model import API, BUSYBOX, FLAT, LAYERED
from uistate import fixed_app, make_app, notices, text, wait_notice, wait_screen

from swarmtui.engine.client import EngineClient, EngineError, WritePermit
from swarmtui.engine.disk import ClientTransport, DiskEngine, DiskFleet
from swarmtui.engine.live import LiveSwarm
from swarmtui.screens.images import CompareScreen, ImagesScreen, LayersScreen
from swarmtui.screens.operation import ConfirmOperationScreen


class RecordedEngine:
    """A DiskTransport answering GETs from the recording; anything else is an error."""

    def __init__(self, fail: str | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = fail

    url = "unix:///tmp/lab/n1/docker.sock"
    api_version = "1.41"

    async def connect(self) -> str:
        return "1.41"

    async def close(self) -> None:
        pass

    async def call(self, method: str, path: str, params: Mapping[str, str] | None = None,
                   timeout: float = 30.0, permit: WritePermit | None = None) -> Any:
        path = path.strip("/")
        self.calls.append((method, path))
        if method != "GET":
            raise EngineError(f"recorded engine: {method} /{path}")
        if path == "version":
            return {"Version": "20.10.24+dfsg1", "ApiVersion": "1.41"}
        if path == "info":
            return {"Name": "lab-node1", "Swarm": {"NodeID": "node01id",
                                                  "LocalNodeState": "active",
                                                  "ControlAvailable": True}}
        if self.fail and path.startswith(self.fail):
            raise EngineError("the engine said no", 500)
        key = f"/{path}" + ("?all=1" if path == "containers/json" else "")
        if key not in API:
            raise EngineError(f"no such image: {path}", 404)
        return API[key]


def images_app(engine: RecordedEngine | None = None, **kw: Any) -> Any:
    fleet = DiskFleet([DiskEngine(engine or RecordedEngine(), source="test")])
    return fixed_app(disk=fleet, start_mode="images", **kw)


async def settle(pilot: Any) -> ImagesScreen:
    screen = await wait_screen(pilot, ImagesScreen)
    for _ in range(100):
        await pilot.pause()
        if screen.table.row_count:
            break
    return screen


async def cursor_to(pilot: Any, screen: ImagesScreen, image_id: str) -> None:
    screen.table.move_cursor(row=screen.table.get_row_index(image_id))
    await pilot.pause()


async def test_list_shows_tags_sizes_and_the_services_using_each() -> None:
    async with images_app().run_test(size=(200, 40)) as pilot:
        screen = await settle(pilot)
        shown = text(pilot.app)
        assert "REPOSITORY:TAG" in shown and "SHARED SIZE" in shown and "SERVICES" in shown
        assert "4 image(s)" in shown
        keys = [str(k.value) for k in screen.table.rows]
        assert keys == [FLAT, LAYERED, API["/images/json"][2]["Id"], BUSYBOX]  # newest first
        line = next(li for li in shown.splitlines() if "busybox:lab +1" in li)
        assert "1.98MB" in line and "agent, cron_backup, gpu_job, shop_api, shop_web" in line
        line = next(li for li in shown.splitlines() if "swt-layered:lab" in li)
        assert "2.09MB" in line and "2.093MB" in line and "6ee6cd3bff4f" in line


async def test_enter_shows_the_layers_like_docker_history() -> None:
    async with images_app().run_test(size=(160, 30)) as pilot:
        screen = await settle(pilot)
        await cursor_to(pilot, screen, LAYERED)
        await pilot.press("enter")
        await wait_screen(pilot, LayersScreen)
        shown = text(pilot.app)
        assert "swt-layered:lab on lab-node1: 3 layers · 2.09MB · 3 history entries" in shown
        assert "IMAGE          CREATED       CREATED BY" in shown
        assert "sh -c echo hello > /srv/hello.txt && rm /srv…   6B" in shown
        assert "Imported from -" in shown
        await pilot.press("escape")
        await wait_screen(pilot, ImagesScreen)


async def test_mark_then_compare_shows_both_histories_side_by_side() -> None:
    async with images_app().run_test(size=(200, 40)) as pilot:
        screen = await settle(pilot)
        await cursor_to(pilot, screen, LAYERED)
        await pilot.press("m")
        await pilot.pause()
        assert "marked: swt-layered:lab (c: compare)" in text(pilot.app)
        await cursor_to(pilot, screen, FLAT)
        await pilot.press("c")
        cmp = await wait_screen(pilot, CompareScreen)
        shown = text(pilot.app)
        assert "swt-layered:lab ⇄ swt-flat:lab on lab-node1: no shared base layers" in shown
        assert "3 layers · 2.09MB" in shown and "1 layer · 1.98MB" in shown
        assert cmp.comparison.shared_layers == 0
        await pilot.press("escape")
        await wait_screen(pilot, ImagesScreen)
        # Against its own base: the bottom layer is shared and marked.
        await cursor_to(pilot, screen, BUSYBOX)
        await pilot.press("c")
        await wait_screen(pilot, CompareScreen)
        shown = text(pilot.app)
        assert "1 shared base layer (1.98MB), marked =" in shown
        # The base entry on both sides, marked; the layered image's own two are not.
        assert shown.count("1.98MB   =") == 2 and shown.count("   =") == 2


async def test_compare_without_a_mark_says_how() -> None:
    async with images_app().run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        assert "Mark an image first (m)" in " ".join(await wait_notice(pilot))


async def test_an_engine_error_is_one_line_and_the_list_stays() -> None:
    engine = RecordedEngine(fail="images/sha256:6ee6")
    async with images_app(engine).run_test(size=(160, 30)) as pilot:
        screen = await settle(pilot)
        await cursor_to(pilot, screen, LAYERED)
        await pilot.press("enter")
        assert any("the engine said no" in n for n in await wait_notice(pilot))
        assert isinstance(pilot.app.screen, ImagesScreen)
    assert all(method == "GET" for method, _ in engine.calls)


async def test_probe_is_previewed_and_refused_in_read_only() -> None:
    async with images_app(read_only=True).run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        assert "Read-only mode: Probe nodes… is disabled." in await wait_notice(pilot)
    async with images_app().run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        pilot.app.screen.runtime.live.client.nodes = _nodes  # the fixed swarm's, no engine
        await pilot.press("p")
        await wait_screen(pilot, ConfirmOperationScreen)
        shown = text(pilot.app)
        # lab-node1 is the engine the view reads directly: the probe leaves it out.
        assert "Probe 2 node(s) for images" in shown
        assert "direct  lab-node1 (an engine is configured for it)" in shown
        assert "2 services created and removed again" in shown
        await pilot.press("escape")
        await wait_screen(pilot, ImagesScreen)
        assert any("cancelled, nothing was changed" in n for n in notices(pilot.app))


async def _nodes() -> list[dict[str, Any]]:
    return [{"ID": f"node0{i}id", "Description": {"Hostname": f"lab-node{i}",
                                                 "Engine": {"EngineVersion": "20.10.24"}},
             "Spec": {"Role": "worker", "Availability": "active"},
             "Status": {"State": "ready"}} for i in (1, 2, 3)]


# -- snapshots -----------------------------------------------------------------------------

def test_images_list_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(images_app(), run_before=settle, terminal_size=(80, 24))


def test_images_list_200x60(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(images_app(), run_before=settle, terminal_size=(200, 60))


async def _compare(pilot: Any) -> None:
    screen = await settle(pilot)
    await cursor_to(pilot, screen, LAYERED)
    await pilot.press("m")
    await cursor_to(pilot, screen, BUSYBOX)
    await pilot.press("c")
    await wait_screen(pilot, CompareScreen)
    await pilot.pause()


def test_images_compare_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(images_app(), run_before=_compare, terminal_size=(80, 24))


def test_images_compare_200x60(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(images_app(), run_before=_compare, terminal_size=(200, 60))


# -- the demo: the simulator answers inspect and history (Enter and compare worked only
#    against a real engine) --------------------------------------------------------------


async def test_the_demo_s_images_open_their_layers_and_compare() -> None:
    with threaded_demo() as sim:
        target = sim.target
        fleet = DiskFleet([DiskEngine(ClientTransport(target), source=target.source)])
        app = make_app(LiveSwarm(EngineClient(target)), disk=fleet, start_mode="images")
        async with app.run_test(size=(200, 40)) as pilot:
            screen = await settle(pilot)
            first, second = (screen.table.coordinate_to_cell_key((r, 0)).row_key.value
                             for r in (0, 1))
            await cursor_to(pilot, screen, str(first))
            await pilot.press("enter")
            await wait_screen(pilot, LayersScreen)
            shown = text(pilot.app)
            assert "2 layers" in shown and "ADD file:sim-rootfs.tar" in shown, shown
            assert "<missing>" in shown and "COPY /app /app" in shown
            await pilot.press("escape")
            await wait_screen(pilot, ImagesScreen)
            await pilot.press("m")
            await cursor_to(pilot, screen, str(second))
            await pilot.press("c")
            cmp = await wait_screen(pilot, CompareScreen)
            assert cmp.comparison.shared_layers == 1
            assert "1 shared base layer (1.98MB)" in text(pilot.app)
            assert not notices(pilot.app)
