"""Stack operations: remove a stack (engine API), deploy or update one (the docker CLI).

:class:`RemoveStack` does what ``docker stack rm`` does, through the API: ``plan()`` lists
the stack's services, networks, secrets and configs (by the stack label) and previews every
one; ``execute()`` removes them in the CLI's order (services, secrets, configs, networks),
reporting each. A stack that gained a service since the preview is previewed again.

:class:`DeployStack` runs ``docker stack deploy`` (the engine has no API for compose files):
``plan()`` only reads (the compose file, and ``docker stack config`` where the CLI has it,
which validates and normalises the file without contacting the engine; a file it rejects
is its error line, before anything is asked), and ``execute()`` runs the deploy as a
subprocess against the runtime's engine, with the permit in hand. A non-zero exit is the
CLI's error line; the CLI validates the whole file before it creates anything.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from swarmtui.engine.client import EngineError, WritePermit
from swarmtui.engine.stacks import list_stack_objects, list_stack_services
from swarmtui.engine.target import EngineTarget
from swarmtui.model.imageref import image_ref_problem
from swarmtui.model.jsonval import as_int, as_map, as_str
from swarmtui.model.stacks import StackObject, compose_service_images, compose_service_names
from swarmtui.model.types import STACK_LABEL
from swarmtui.ops.base import Operation, Outcome, Plan, Preview
from swarmtui.ops.service import ServiceClient

NEEDS_CLI = "stack deploy needs the docker CLI (docker.io)"
CLI_TIMEOUT_S = 300.0
# A network still referenced by a task being shut down is refused for a moment after its
# services went; the CLI gives up at once, we retry briefly.
NETWORK_RETRY_S = 10.0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- remove ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class StackContents:
    """What a stack holds now: services as (id, name, version), then its other objects in
    the order they are removed."""

    stack: str
    services: tuple[tuple[str, str, int], ...]
    others: tuple[StackObject, ...]


def _service_entries(raw: Sequence[object]) -> tuple[tuple[str, str, int], ...]:
    out = []
    for item in raw:
        data = as_map(item)
        spec = as_map(data.get("Spec"))
        out.append((as_str(data.get("ID")), as_str(spec.get("Name")),
                    as_int(as_map(data.get("Version")).get("Index"))))
    return tuple(sorted(out, key=lambda s: (s[1], s[0])))


async def read_stack(client: ServiceClient, stack: str) -> StackContents:
    """Everything labelled with ``stack``; EngineError "no such stack" when nothing is."""
    services = _service_entries(await list_stack_services(client, stack))
    objects = await list_stack_objects(client, stack)
    others = (*objects.secrets, *objects.configs, *objects.networks)
    if not services and not others:
        raise EngineError(f"no such stack: {stack}", 404)
    return StackContents(stack, services, others)


class RemoveStack(Operation[StackContents]):
    """``docker stack rm STACK``. Cannot be undone: the stack's name is typed to confirm."""

    def __init__(self, client: ServiceClient, stack: str) -> None:
        self.client = client
        self.stack = stack.strip()
        self.title = f"Remove stack {self.stack}"

    async def plan(self) -> Plan[StackContents]:
        if not self.stack:
            raise EngineError("which stack? (a stack name is needed)")
        contents = await read_stack(self.client, self.stack)
        lines = [f"stack {contents.stack}: everything labelled {STACK_LABEL}={contents.stack}"]
        lines += [f"  service  {name}  ({sid[:12]})" for sid, name, _ in contents.services]
        lines += [f"  {o.kind:<8} {o.name}  ({o.id[:12]})" for o in contents.others]
        counts = [_plural(len(contents.services), "service")]
        for kind in ("network", "secret", "config"):
            counts.append(_plural(sum(1 for o in contents.others if o.kind == kind), kind))
        preview = Preview(
            title=self.title,
            blocks=("\n".join(lines) + "\n",),
            summary=(f"Total: {', '.join(counts)}. Removed as docker stack rm does: services "
                     "(and their tasks) first, then secrets, configs and networks."),
            changes=len(contents.services) + len(contents.others),
            typed_confirmation=contents.stack,
            warning="A removed stack cannot be brought back (deploy its compose file again).",
        )
        return Plan(self, preview, contents,
                    based_on=tuple((sid, version) for sid, _, version in contents.services))

    async def execute(self, plan: Plan[StackContents], permit: WritePermit) -> Outcome:
        contents = plan.payload
        title = plan.preview.title
        try:
            # No version on DELETE: a service added to the stack since the preview would go
            # unseen, so read the stack again and ask again if it grew.
            now = _service_entries(await list_stack_services(self.client, contents.stack))
        except EngineError as exc:
            return Outcome(title, errors=(str(exc),))
        planned = {sid for sid, _, _ in contents.services}
        if any(sid not in planned for sid, _, _ in now):
            return Outcome(title, refused="the stack changed since the preview", stale=True)
        done: list[str] = []
        errors: list[str] = []
        for sid, name, _ in contents.services:
            await self._remove("service", name, f"services/{sid}", permit, done, errors)
        for obj in contents.others:
            await self._remove(obj.kind, obj.name, f"{obj.kind}s/{obj.id}", permit, done,
                               errors)
        if errors:
            errors.append(f"failed to remove some resources from stack: {contents.stack}")
        return Outcome(title, blocks=("\n".join(done) + "\n",) if done else (),
                       errors=tuple(errors))

    async def _remove(self, kind: str, name: str, path: str, permit: WritePermit,
                      done: list[str], errors: list[str]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (NETWORK_RETRY_S if kind == "network" else 0)
        while True:
            try:
                await self.client.request("DELETE", path, permit=permit)
            except EngineError as exc:
                if exc.status == 404:
                    done.append(f"Removing {kind} {name}: already gone")
                    return
                text = str(exc).lower()
                if kind == "network" and "in use" in text and loop.time() < deadline:
                    await asyncio.sleep(0.5)
                    continue
                errors.append(f"failed to remove {kind} {name}: {exc}")
                return
            done.append(f"Removing {kind} {name}")
            return


# -- deploy ------------------------------------------------------------------------------

def docker_cli() -> str | None:
    """The docker CLI on PATH, if any."""
    return shutil.which("docker")


def cli_environment(target: EngineTarget, base: Mapping[str, str] | None = None
                    ) -> tuple[list[str], dict[str, str]]:
    """The CLI's global arguments and environment that point it at ``target`` (the engine
    swarmtui talks to), whatever the shell's DOCKER_* say."""
    env = dict(os.environ if base is None else base)
    for key in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH",
                "DOCKER_TLS"):
        env.pop(key, None)
    env["DOCKER_CLI_HINTS"] = "false"
    if target.context:
        return ["--context", target.context], env
    env["DOCKER_HOST"] = target.url
    tls = target.tls
    if tls is not None:
        folder = os.path.dirname(tls.ca or tls.cert or tls.key or "")
        if folder:
            env["DOCKER_CERT_PATH"] = folder
        if tls.verify:
            env["DOCKER_TLS_VERIFY"] = "1"
        else:
            env["DOCKER_TLS"] = "1"
    return [], env


def error_line(stderr: str, stdout: str, returncode: int) -> str:
    """The CLI's own error, in one line (a line that ends in ``:`` with the next one, as in
    ``decoding failed due to the following error(s):`` and the error)."""
    for text in (stderr, stdout):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines:
            if lines[0].endswith(":") and len(lines) > 1:
                return f"{lines[0]} {lines[1]}"
            return lines[0]
    return f"docker exited with status {returncode}"


@dataclass(frozen=True, slots=True)
class DeployRequest:
    """The command ``execute`` runs, and what the preview said it would deploy."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    cwd: str  # the compose file's folder: relative paths in it are read from there
    stack: str
    services: tuple[str, ...]  # full service names (STACK_name)
    command: str  # the command as shown


@dataclass(frozen=True, slots=True)
class Deployed:
    """An outcome's detail after the CLI ran: the stack and the services of its file."""

    stack: str
    services: tuple[str, ...]


async def _run(argv: Sequence[str], env: Mapping[str, str], cwd: str,
               timeout: float = CLI_TIMEOUT_S) -> tuple[int, str, str]:
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(env), cwd=cwd)
    except OSError as exc:
        raise EngineError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise EngineError(f"{' '.join(argv[:3])} did not finish in {timeout:.0f} s") from None
    return (proc.returncode or 0, out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"))


def _unsupported(stderr: str) -> bool:
    """Docker 20.10's CLI has no ``stack config``: it answers with a usage error."""
    text = stderr.lower()
    return "unknown shorthand flag" in text or "unknown command" in text or (
        "usage:" in text and "docker stack [options] command" in text)


class DeployStack(Operation[DeployRequest]):
    """``docker stack deploy --resolve-image never -c FILE STACK`` against the engine."""

    def __init__(self, client: ServiceClient, target: EngineTarget, compose_file: str,
                 stack: str, *, cli: str | None = None, resolve_image: str = "never") -> None:
        self.client = client
        self.target = target
        self.compose_file = compose_file.strip()
        self.stack = stack.strip()
        self.cli = cli
        self.resolve_image = resolve_image
        self.title = f"Deploy stack {self.stack}"

    def _cli(self) -> str:
        cli = self.cli or docker_cli()
        if not cli:
            raise EngineError(NEEDS_CLI)
        return cli

    def _read_compose_file(self) -> tuple[Path, str]:
        """The file's absolute path and text; EngineError saying why it cannot be read."""
        path = Path(os.path.expanduser(self.compose_file)).resolve()
        try:
            return path, path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise EngineError(f"{self.compose_file}: {reason}") from exc

    async def plan(self) -> Plan[DeployRequest]:
        cli = self._cli()
        if not self.stack or any(c.isspace() for c in self.stack) or self.stack.startswith(
                "-"):
            raise EngineError(f"invalid stack name: {self.stack!r}")
        if not self.compose_file:
            raise EngineError("which compose file? (a path is needed)")
        path, text = await asyncio.to_thread(self._read_compose_file)
        args, env = cli_environment(self.target)
        cwd = str(path.parent)
        # `docker stack config` (CLI 23+) checks and normalises the file locally; it sends
        # nothing to the engine. Older CLIs find errors on deploy, before creating anything.
        code, out, err = await _run([cli, *args, "stack", "config", "-c", str(path)], env, cwd)
        checked = code == 0
        if code != 0 and not _unsupported(err):
            raise EngineError(f"{self.compose_file}: {error_line(err, out, code)}")
        names = compose_service_names(out if checked else text)
        for service, image in compose_service_images(out if checked else text):
            # The CLI sends any image string on to the engine, which refuses it on create.
            problem = image_ref_problem(image)
            if problem is not None:
                raise EngineError(f"{self.compose_file}: services.{service}.image: {problem}")
        existing = {name for _, name, _ in
                    _service_entries(await list_stack_services(self.client, self.stack))}
        full = tuple(f"{self.stack}_{n}" for n in names)
        shown = f"docker stack deploy --resolve-image {self.resolve_image} -c {path} {self.stack}"
        lines = [f"runs: {shown}", f"against {self.target.label}", "",
                 f"services in {self.compose_file}"
                 + ("" if checked else " (as read from the file; the CLI checks it on deploy)")
                 + ":"]
        width = max((len(n) for n in full), default=0)
        for name in full:
            lines.append(f"  {name:<{width}}  "
                         + ("update (exists)" if name in existing else "create"))
        kept = sorted(existing - set(full))
        for name in kept:
            lines.append(f"  {name:<{width}}  kept (not in the file; only --prune removes it)")
        if not full:
            lines.append("  (none found; the CLI reads the file)")
        verb = "Update" if existing else "Deploy"
        self.title = f"{verb} stack {self.stack} from {self.compose_file}"
        preview = Preview(
            title=self.title,
            blocks=("\n".join(lines) + "\n",),
            summary=("The CLI creates or updates each service; updates roll out as their "
                     "update_config says (followed on the timeline)."),
            changes=max(1, len(full)),
        )
        argv = (cli, *args, "stack", "deploy", "--resolve-image", self.resolve_image, "-c",
                str(path), self.stack)
        request = DeployRequest(argv, tuple(sorted(env.items())), cwd, self.stack, full, shown)
        return Plan(self, preview, request)

    async def execute(self, plan: Plan[DeployRequest], permit: WritePermit) -> Outcome:
        req = plan.payload
        title = plan.preview.title
        if not permit.live:
            return Outcome(title, refused="no permit: changes are made only when confirmed")
        try:
            code, out, err = await _run(req.argv, dict(req.env), req.cwd)
        except EngineError as exc:
            return Outcome(title, errors=(str(exc),))
        output = "".join(part for part in (out, err) if part.strip())
        blocks = (f"$ {req.command}\n{output}",)
        if code != 0:
            return Outcome(title, blocks=blocks, errors=(error_line(err, out, code),))
        return Outcome(title, blocks=blocks,
                       notes=("the engine rolls the services out: see the updates timeline (from a "
                              f"shell: swarmtui rollout status {req.stack})",),
                       detail=Deployed(req.stack, req.services))
