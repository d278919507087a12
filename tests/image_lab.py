"""Images with layers on a lab node, for the images view's lab test and its recorder.

No registry is reachable, so images are made on the node itself: ``layered`` is the lab's
busybox image plus two ``docker commit`` steps (two more layers, each with its own history
entry), ``flat`` is that image exported and imported again (one layer, one history entry):
a squashed image and its layered original.
"""

from __future__ import annotations

from dataclasses import dataclass

import swarmlab

LAYERED = "swt-layered:lab"
FLAT = "swt-flat:lab"
STEP1 = "swt-layered:step1"


@dataclass(frozen=True, slots=True)
class BuiltImages:
    layered_id: str
    flat_id: str


def _commit_step(lab: swarmlab.Lab, node: int, base: str, command: str, tag: str,
                 message: str) -> None:
    name = f"swt-build-{tag.replace(':', '-')}"
    lab.docker("rm", "-f", name, node=node, check=False)
    lab.docker("run", "--name", name, base, "sh", "-c", command, node=node)
    lab.docker("commit", "-m", message, "-c", f"LABEL swt.step={tag}", name, tag, node=node)
    lab.docker("rm", "-f", name, node=node)


def remove_images(lab: swarmlab.Lab, node: int = 0) -> None:
    """Remove what :func:`build_images` made (later tests, a prune's preview among them,
    expect a node to hold only the lab's own images)."""
    for tag in (FLAT, LAYERED, STEP1):
        lab.docker("rmi", "-f", tag, node=node, check=False)


def build_images(lab: swarmlab.Lab, node: int = 0) -> BuiltImages:
    """(Re)build ``LAYERED`` and ``FLAT`` on ``nodes[node]``; returns their IDs."""
    remove_images(lab, node)
    _commit_step(lab, node, swarmlab.IMAGE,
                 "mkdir -p /srv && seq 1 20000 > /srv/numbers.txt", STEP1, "numbers")
    _commit_step(lab, node, STEP1, "echo hello > /srv/hello.txt && rm /srv/numbers.txt",
                 LAYERED, "hello, numbers removed")
    name = "swt-build-export"
    lab.docker("rm", "-f", name, node=node, check=False)
    lab.docker("create", "--name", name, LAYERED, node=node)
    host = lab.nodes[node].host
    swarmlab._run(["sh", "-c", f"{lab.cli} -H {host} export {name} | "
                   f"{lab.cli} -H {host} import -m flattened - {FLAT}"], timeout=120,
                  env=swarmlab._cli_env())
    lab.docker("rm", "-f", name, node=node)
    layered = lab.docker("image", "inspect", "-f", "{{.Id}}", LAYERED, node=node).stdout.strip()
    flat = lab.docker("image", "inspect", "-f", "{{.Id}}", FLAT, node=node).stdout.strip()
    return BuiltImages(layered, flat)
