"""Record a lab node's images for the images view's tests (tests/test_images*.py).

Run from a worktree as root with the lab up (``tests/swarmlab.py up``):

    /work/main/.venv/bin/python tests/tools/record_images.py

Holds the lab's test lock (the one ``lab_plugin`` takes). Builds ``swt-layered:lab`` (busybox
plus two ``docker commit`` steps) and ``swt-flat:lab`` (it, exported and imported) on the
manager (tests/image_lab.py), then writes ``tests/fixtures/engine/v1.41/images_lab.json``:
the engine's answers (``GET /images/json``, ``/containers/json?all=1``, ``/system/df``, and
``/images/{id}/json`` + ``/history`` of those two and busybox:lab) and the output of both
docker CLIs' ``docker history`` (``--no-trunc`` and default) of each, with the unix time
taken right before the CLI ran (``now``: ages are computed from it).
"""

from __future__ import annotations

import fcntl
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import image_lab
import swarmlab

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "engine" / "v1.41" / "images_lab.json"
CLIS = {"docker 20.10": "/usr/bin/docker", "docker 28.2": "/usr/local/bin/docker"}


def main() -> None:
    lab = swarmlab.load()
    assert lab is not None and lab.is_ready(), "the lab is not up (tests/swarmlab.py up)"
    with open(lab.base_dir.parent / "swarmtui-lab-main.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        built = image_lab.build_images(lab)
        time.sleep(2)  # so that no age is "Less than a second" / a boundary
        doc: dict[str, Any] = {"_how": __doc__, "api": {}, "cli": {}, "refs": {}}
        api = doc["api"]
        api["/images/json"] = lab.api("/images/json")
        api["/containers/json?all=1"] = lab.api("/containers/json?all=1")
        api["/system/df"] = lab.api("/system/df")
        for ref, image_id in ((image_lab.LAYERED, built.layered_id),
                              (image_lab.FLAT, built.flat_id),
                              (swarmlab.IMAGE, lab.api(f"/images/{swarmlab.IMAGE}/json")["Id"])):
            doc["refs"][ref] = image_id
            api[f"/images/{image_id}/json"] = lab.api(f"/images/{image_id}/json")
            api[f"/images/{image_id}/history"] = lab.api(f"/images/{image_id}/history")
            for cli_name, cli in CLIS.items():
                for args in (["history", "--no-trunc"], ["history"]):
                    now = time.time()
                    out = swarmlab._run([cli, "-H", lab.nodes[0].host, *args, image_id],
                                        env=swarmlab._cli_env()).stdout
                    doc["cli"].setdefault(cli_name, {})[f"{' '.join(args)} {ref}"] = {
                        "now": now, "stdout": out}
        fcntl.flock(fh, fcntl.LOCK_UN)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
