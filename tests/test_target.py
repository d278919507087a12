"""Engine selection follows the docker CLI's precedence."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from swarmtui.engine.target import DEFAULT_SOCKET, TargetError, resolve_target


def _context(home: Path, name: str, host: str) -> None:
    import hashlib

    meta = home / ".docker" / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({
        "Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host,
                                                               "SkipTLSVerify": False}}}))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / ".docker"))
    for var in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / ".docker").mkdir()
    _context(tmp_path, "ctx1", "unix:///run/ctx1.sock")
    _context(tmp_path, "ctx2", "tcp://10.0.0.2:2375")
    (tmp_path / ".docker" / "config.json").write_text(json.dumps({"currentContext": "ctx1"}))
    return tmp_path


def test_default_socket_without_anything(home: Path) -> None:
    (home / ".docker" / "config.json").write_text("{}")
    t = resolve_target(env={})
    assert (t.url, t.source) == (DEFAULT_SOCKET, "default socket")


def test_config_current_context(home: Path) -> None:
    assert resolve_target(env={}).url == "unix:///run/ctx1.sock"


def test_docker_host_beats_config_context(home: Path) -> None:
    # aiodocker gets this one wrong (brief §1.4): the CLI lets DOCKER_HOST win.
    t = resolve_target(env={"DOCKER_HOST": "unix:///run/n1.sock"})
    assert (t.url, t.source) == ("unix:///run/n1.sock", "DOCKER_HOST")


def test_docker_context_env_beats_config(home: Path) -> None:
    assert resolve_target(env={"DOCKER_CONTEXT": "ctx2"}).url == "tcp://10.0.0.2:2375"


def test_docker_host_beats_docker_context_env(home: Path) -> None:
    t = resolve_target(env={"DOCKER_HOST": "tcp://h:1", "DOCKER_CONTEXT": "ctx2"})
    assert t.url == "tcp://h:1"


def test_flags_beat_environment(home: Path) -> None:
    env = {"DOCKER_HOST": "tcp://h:1"}
    assert resolve_target(host="unix:///x.sock", env=env).url == "unix:///x.sock"
    assert resolve_target(context="ctx2", env=env).url == "tcp://10.0.0.2:2375"


def test_errors_are_one_line(home: Path) -> None:
    with pytest.raises(TargetError, match="either specify --host or --context"):
        resolve_target(host="unix:///a", context="ctx1", env={})
    with pytest.raises(TargetError, match="does not exist"):
        resolve_target(context="nope", env={})
    with pytest.raises(TargetError, match="certificate files are missing"):
        resolve_target(env={"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1",
                            "DOCKER_CERT_PATH": str(home / "nocerts")})


def make_certs(folder: Path) -> Path:
    """A self-signed ca.pem / cert.pem / key.pem set, as DOCKER_CERT_PATH holds."""
    folder.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=swarmtui-test", "-keyout", str(folder / "key.pem"),
                    "-out", str(folder / "cert.pem")], check=True, capture_output=True)
    (folder / "ca.pem").write_bytes((folder / "cert.pem").read_bytes())
    return folder


def test_tls_files_from_env(home: Path) -> None:
    certs = make_certs(home / "certs")
    t = resolve_target(env={"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "yes",
                            "DOCKER_CERT_PATH": str(certs)})
    assert t.tls is not None and t.tls.verify and t.tls.ca == str(certs / "ca.pem")


@pytest.mark.parametrize("broken", ["ca", "cert", "key"])
def test_unreadable_tls_files_are_one_line(home: Path, broken: str) -> None:
    # Before: a PEM that is not one surfaced as a traceback from ssl at connect.
    certs = make_certs(home / "certs")
    (certs / f"{broken}.pem").write_text("not a PEM file\n")
    with pytest.raises(TargetError, match=r"^cannot load the TLS .*" + broken) as exc:
        resolve_target(env={"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1",
                            "DOCKER_CERT_PATH": str(certs)})
    assert "\n" not in str(exc.value)
