"""Secrets and configs on the real swarm lab: the views agree with ``docker secret ls`` /
``docker config ls``; create, remove and its refusal; rotation of two services one after
the other, and a rotation whose second service fails (rolled back, the first left on the new
secret, said so); and a secret typed in the app that appears nowhere but in the one create
request."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from counting_proxy import CountingProxy
from lab_plugin import _exclusive, wait_until
from swarmlab import Lab
from test_secrets_ui import confirm, select, typed, wait_screen
from uistate import make_app

from swarmtui.engine.client import EngineClient
from swarmtui.engine.live import LiveSwarm
from swarmtui.engine.target import EngineTarget, resolve_target
from swarmtui.model.tables import config_rows, secret_rows
from swarmtui.ops.executor import Executor
from swarmtui.ops.secret import CreateSecret, RemoveSecret, RotateSecret, SecretData
from swarmtui.screens.secrets import SecretsScreen
from swarmtui.shot import render_screen
from swarmtui.views import default_views

pytestmark = pytest.mark.lab

VALUE = "Lab-Secret-Value-7f3a9c"


def _clean_own(lab: Lab) -> None:
    """Remove what these tests make (services, secrets, configs named swt*). Not the plugin's
    clean_swarm: that one waits for every task of every removed service to be gone, and
    tasks of other sessions' removed jobs can linger on the lab for many minutes."""
    for svc in lab.api("/services"):
        if svc["Spec"]["Name"].startswith("swt"):
            lab.api(f"/services/{svc['ID']}", method="DELETE")
    wait_until(lambda: not [t for t in lab.api("/tasks") if t.get("DesiredState") == "running"
                            and t["Status"]["State"] == "running"
                            and t.get("ServiceID") not in {s["ID"] for s in
                                                           lab.api("/services")}],
               30, "the removed services' tasks to stop")
    for kind in ("secrets", "configs"):
        for item in lab.api(f"/{kind}"):
            if item["Spec"]["Name"].startswith("swt"):
                wait_until(lambda k=kind, i=item: _try_delete(lab, f"/{k}/{i['ID']}"), 30,
                           f"{item['Spec']['Name']} removed")


def _try_delete(lab: Lab, path: str) -> bool:
    try:
        lab.api(path, method="DELETE")
    except Exception:
        return False  # still in use by a task that is stopping
    return True


@pytest.fixture
def swarm(lab: Lab) -> Iterator[Lab]:
    with _exclusive(lab):
        _clean_own(lab)
        yield lab
        _clean_own(lab)


@pytest.fixture
async def client(swarm: Lab) -> AsyncIterator[EngineClient]:
    c = EngineClient(EngineTarget(swarm.manager_host, "test"))
    await c.connect()
    yield c
    await c.close()


def make_secret(lab: Lab, tmp: Path, name: str, value: str, kind: str = "secret") -> str:
    path = tmp / name
    path.write_text(value)
    return lab.docker(kind, "create", name, str(path)).stdout.strip()


def service(lab: Lab, name: str, *args: str, command: str = "exec sleep 1d") -> None:
    # One replica, replaced in about 3 s: 1 s delay, 2 s monitor (rollbacks too).
    lab.docker("service", "create", "--detach", "--no-resolve-image", "--name", name,
               "--update-delay", "1s", "--update-monitor", "2s", "--rollback-monitor", "2s",
               "--restart-delay", "1s", *args, "busybox:lab", "sh", "-c", command)


def secret_of(lab: Lab, name: str) -> str:
    return lab.docker("service", "inspect", "--format",
                      "{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}} "
                      "{{end}}", name).stdout.strip()


async def test_views_agree_with_docker_ls_and_remove_is_refused_in_use(
        swarm: Lab, client: EngineClient, tmp_path: Path) -> None:
    make_secret(swarm, tmp_path, "swt_pass", "p1")
    make_secret(swarm, tmp_path, "swt_unused", "p2")
    make_secret(swarm, tmp_path, "swt_conf", "k=v\n", "config")
    service(swarm, "swt-user", "--secret", "source=swt_pass,target=pass,mode=0400",
            "--config", "source=swt_conf,target=/etc/app.conf")
    live = LiveSwarm(client)
    live.start()
    try:
        await live.wait_full_state(20)
        state = live.store.state
        want = swarm.docker("secret", "ls", "--format", "{{.ID}} {{.Name}}").stdout.split()
        got = [w for _, cells in secret_rows(state) for w in cells[:2]]
        assert got == want
        want = swarm.docker("config", "ls", "--format", "{{.ID}} {{.Name}}").stdout.split()
        rows = config_rows(state)
        assert [w for _, cells in rows for w in cells[:2]] == want
        assert rows[0][1][-1] == "swt-user"
        # A secret made meanwhile arrives by its event (no polling).
        make_secret(swarm, tmp_path, "swt_later", "p3")
        for _ in range(50):
            if any(s.name == "swt_later" for s in live.store.state.secrets.values()):
                break
            await __import__("asyncio").sleep(0.1)
        assert any(s.name == "swt_later" for s in live.store.state.secrets.values())
    finally:
        await live.stop()
    c = EngineClient(EngineTarget(swarm.manager_host, "test"))
    await c.connect()
    try:
        with pytest.raises(Exception, match="swt_pass is in use by swt-user"):
            await RemoveSecret(c, "swt_pass").plan()
        ex = Executor()
        assert (await ex.execute(await ex.plan(RemoveSecret(c, "swt_unused")))).ok
        created = await ex.execute(await ex.plan(
            CreateSecret(c, "swt_new", SecretData.typed("v"))))
        assert created.ok
    finally:
        await c.close()
    names = swarm.docker("secret", "ls", "--format", "{{.Name}}").stdout.split()
    assert "swt_unused" not in names and "swt_new" in names and "swt_pass" in names


async def test_rotation_moves_two_services_one_after_the_other(
        swarm: Lab, client: EngineClient, tmp_path: Path) -> None:
    make_secret(swarm, tmp_path, "swt_pass", "old")
    for name in ("swt-rot-a", "swt-rot-b"):
        service(swarm, name, "--secret", "source=swt_pass,target=pass")
    op = RotateSecret(client, "swt_pass", "swt_pass_v2", SecretData.typed("new"),
                      timeout_s=90)
    ex = Executor()
    outcome = await ex.execute(await ex.plan(op))
    assert outcome.ok, outcome
    assert secret_of(swarm, "swt-rot-a") == "swt_pass_v2"
    assert secret_of(swarm, "swt-rot-b") == "swt_pass_v2"
    fmt = "{{.UpdateStatus.StartedAt.UnixNano}} {{.UpdateStatus.CompletedAt.UnixNano}}"
    a = [int(x) for x in swarm.docker("service", "inspect", "--format", fmt,
                                      "swt-rot-a").stdout.split()]
    b = [int(x) for x in swarm.docker("service", "inspect", "--format", fmt,
                                      "swt-rot-b").stdout.split()]
    assert a[1] <= b[0], "b started only after a's rollout completed"
    assert "swt-rot-a: now on swt_pass_v2; swt-rot-b: now on swt_pass_v2" in outcome.blocks[0]


async def test_rotation_failing_second_service_is_rolled_back_first_stays(
        swarm: Lab, client: EngineClient, tmp_path: Path) -> None:
    make_secret(swarm, tmp_path, "swt_pass", "old")
    service(swarm, "swt-rot-a", "--secret", "source=swt_pass,target=pass")
    # b runs only while its secret reads "old": the new value makes its task exit 1.
    service(swarm, "swt-rot-b", "--secret", "source=swt_pass,target=pass",
            command='test "$(cat /run/secrets/pass)" = old && exec sleep 1d')
    op = RotateSecret(client, "swt_pass", "swt_pass_v2", SecretData.typed("new"),
                      timeout_s=120)
    ex = Executor()
    outcome = await ex.execute(await ex.plan(op))
    assert not outcome.ok
    assert secret_of(swarm, "swt-rot-a") == "swt_pass_v2"
    assert secret_of(swarm, "swt-rot-b") == "swt_pass"
    assert "swt-rot-a: now on swt_pass_v2" in outcome.blocks[0]
    assert len(outcome.errors) == 1
    error = outcome.errors[0]
    assert error.startswith("swt-rot-b: update failed (")
    assert "exit (1)" in error and error.endswith("rolled back to swt_pass; stopped"), error
    assert "swt_pass is still used by swt-rot-b" in outcome.notes[0]


def assert_in_no_file(folder: Path, secrets: list[bytes]) -> None:
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files, "the log export wrote a file"
    for path in files:
        data = path.read_bytes()
        assert not [s for s in secrets if s in data], path


async def test_a_typed_secret_appears_only_in_the_one_create_request(
        swarm: Lab, tmp_path: Path) -> None:
    encoded = base64.b64encode(VALUE.encode())
    exports = tmp_path / "exports"
    exports.mkdir()
    with CountingProxy(swarm.manager.sock) as proxy:
        target = resolve_target(host=proxy.url, env={})
        app = make_app(LiveSwarm(EngineClient(target)))
        texts: list[str] = []
        async with app.run_test(size=(160, 50)) as pilot:
            await app.runtime.live.wait_full_state(20)
            await pilot.press(default_views().get("secrets").key)
            await wait_screen(pilot, SecretsScreen)
            await pilot.press("c")
            await typed(pilot, "swt_leak")
            await pilot.press(*VALUE)
            texts += [render_screen(app, as_svg=False), render_screen(app, as_svg=True)]
            await pilot.press("enter")
            await wait_screen(pilot, type(app.screen))
            texts += [render_screen(app, as_svg=False), render_screen(app, as_svg=True)]
            await confirm(pilot)
            texts += [render_screen(app, as_svg=False), render_screen(app, as_svg=True)]
            await pilot.press("escape")
            for _ in range(50):  # the create event lists it
                await pilot.pause(0.1)
                if any(s.name == "swt_leak" for s in app.state.secrets.values()):
                    break
            item = next(s for s in app.state.secrets.values() if s.name == "swt_leak")
            await select(pilot, item.id)
            await pilot.press("enter")
            await pilot.pause(0.2)
            texts.append(render_screen(app, as_svg=False))
            await pilot.press("escape")
            for view in app.views:  # every screen, as text and as a shot
                await pilot.press(view.key)
                await pilot.pause(0.2)
                texts += [render_screen(app, as_svg=False), render_screen(app, as_svg=True)]
            await pilot.press("3", "E")
            await typed(pilot, str(exports / "all.log"))
            texts += [n.message for n in app._notifications]
            exception: Any = app._exception
        assert exception is None
        hits = [(m, t) for m, t, body in proxy.bodies() if encoded in body]
        assert hits == [("POST", "/v1.41/secrets/create")]
        assert not [r for r in proxy.bodies() if VALUE.encode() in r[2] or VALUE in r[1]]
        assert not [t for t in proxy.seen() if encoded.decode() in t[1]]
    for text in texts:
        assert VALUE not in text and encoded.decode() not in text
    assert_in_no_file(tmp_path, [VALUE.encode(), encoded])
    assert "swt_leak" in swarm.docker("secret", "ls", "--format", "{{.Name}}").stdout
