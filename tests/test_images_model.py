"""The images view's pure part (swarmtui.model.images) on answers recorded from a lab node
(``fixtures/engine/v1.41/images_lab.json``, tests/tools/record_images.py): the list's rows,
the services using an image, and ``docker history`` rows -- golden against the output of the
real docker CLIs (20.10 and 28.2) recorded with them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from swarmtui.model.disk.render import tabwrite
from swarmtui.model.images import (
    HISTORY_COLUMNS,
    HistoryEntry,
    ImageLayers,
    compare,
    compare_rows,
    created_by_text,
    history_rows,
    image_layers_from_json,
    image_rows,
    image_users,
    images_from_json,
    repo_tag_text,
    shared_entries,
    summary_text,
)
from swarmtui.model.types import Service

REC = json.loads((Path(__file__).parent / "fixtures" / "engine" / "v1.41" / "images_lab.json")
                 .read_text())
API: dict[str, Any] = REC["api"]
REFS: dict[str, str] = REC["refs"]
LAYERED, FLAT, BUSYBOX = REFS["swt-layered:lab"], REFS["swt-flat:lab"], REFS["busybox:lab"]
NOW_NS = int(REC["cli"]["docker 20.10"]["history swt-layered:lab"]["now"] * 1e9)


def layers(image_id: str) -> ImageLayers:
    return image_layers_from_json(API[f"/images/{image_id}/json"],
                                  API[f"/images/{image_id}/history"])


def svc(name: str, image: str) -> Service:
    return Service(id=f"id-{name}", version=1, name=name, image=image, mode="replicated",
                   replicas=1)


# -- the list ----------------------------------------------------------------------------

def test_images_json_before_1_51_gets_shared_size_and_containers_from_df() -> None:
    raw = API["/images/json"]
    assert {i["SharedSize"] for i in raw} == {-1} and {i["Containers"] for i in raw} == {-1}
    items = {i.id: i for i in images_from_json(raw, API["/containers/json?all=1"],
                                               API["/system/df"])}
    assert items[LAYERED].shared_size == 2093154  # step1's layers, shared with it
    assert items[FLAT].shared_size == 0
    assert items[LAYERED].containers == 0


def test_without_df_containers_are_counted_and_shared_size_is_n_a() -> None:
    containers = [{"Id": "c1", "ImageID": BUSYBOX}, {"Id": "c2", "ImageID": BUSYBOX}]
    items = {i.id: i for i in images_from_json(API["/images/json"], containers)}
    assert items[BUSYBOX].containers == 2 and items[FLAT].containers == 0
    rows = dict(image_rows(tuple(items.values()), (), NOW_NS))
    assert rows[BUSYBOX][4] == "N/A"


def test_rows_newest_first_with_docker_formats_and_users() -> None:
    items = images_from_json(API["/images/json"], API["/containers/json?all=1"],
                             API["/system/df"])
    services = (svc("web", "busybox:lab"), svc("pinned", "busybox:lab2@sha256:" + "e" * 64),
                svc("other", "nginx:1"))
    rows = image_rows(items, services, NOW_NS)
    assert [k for k, _ in rows][-1] == BUSYBOX  # the oldest
    by_key = dict(rows)
    assert by_key[LAYERED] == ("swt-layered:lab", LAYERED[7:19], "2 seconds ago", "2.09MB",
                               "2.093MB", "0", "-")
    # busybox:lab2@digest: its tag matches (the digest is not known on this node).
    assert by_key[BUSYBOX][0] == "busybox:lab +1"
    assert by_key[BUSYBOX][6] == "pinned, web"


def test_users_by_digest_and_dangling_names() -> None:
    items = images_from_json([{"Id": "sha256:" + "a" * 64, "RepoTags": [],
                               "RepoDigests": ["reg.example/app@sha256:" + "d" * 64],
                               "Created": 1, "Size": 10}])
    assert image_users(items[0], [svc("a", "reg.example/app:1@sha256:" + "d" * 64),
                                  svc("b", "reg.example/app:1")]) == ("a",)
    assert repo_tag_text(items[0]) == "<none>:<none>"


# -- history: golden against the docker CLIs ---------------------------------------------

CASES = [(cli, ref, trunc) for cli in ("docker 20.10", "docker 28.2")
         for ref in ("swt-layered:lab", "swt-flat:lab", "busybox:lab") for trunc in (True, False)]


@pytest.mark.parametrize(("cli", "ref", "trunc"), CASES)
def test_history_rows_equal_docker_history(cli: str, ref: str, trunc: bool) -> None:
    recorded = REC["cli"][cli][f"history{'' if trunc else ' --no-trunc'} {ref}"]
    image = layers(REFS[ref])
    ours = tabwrite([HISTORY_COLUMNS, *history_rows(image, int(recorded["now"] * 1e9),
                                                    trunc=trunc)])
    assert ours == recorded["stdout"]


def test_created_by_is_cut_like_the_cli_and_tabs_become_spaces() -> None:
    entry = HistoryEntry("<missing>", 0, "/bin/sh -c #(nop)\tCMD [\"sh\"]  and a long tail "
                         "that goes on and on", 0)
    assert created_by_text(entry) == '/bin/sh -c #(nop) CMD ["sh"]  and a long tai…'
    assert len(created_by_text(entry)) == 45
    assert created_by_text(entry, None).startswith('/bin/sh -c #(nop) CMD ["sh"]')
    assert history_rows(ImageLayers("x", (), (), 0, (entry,)), 0)[0][0] == "<missing>"


# -- side by side ------------------------------------------------------------------------

def test_layered_against_flattened_shares_nothing_and_counts_layers() -> None:
    layered, flat = layers(LAYERED), layers(FLAT)
    cmp = compare(layered, flat)
    assert cmp.shared_layers == 0 and cmp.summary() == "no shared base layers"
    assert summary_text(layered) == "3 layers · 2.09MB · 3 history entries"
    assert summary_text(flat) == "1 layer · 1.98MB · 1 history entry"


def test_layered_against_its_base_marks_the_shared_entries() -> None:
    layered, base = layers(LAYERED), layers(BUSYBOX)
    cmp = compare(layered, base)
    assert cmp.shared_layers == 1
    assert cmp.left_shared == (False, False, True) and cmp.right_shared == (True,)
    assert cmp.summary() == "1 shared base layer (1.98MB), marked ="
    rows = compare_rows(layered, cmp.left_shared, NOW_NS, 20)
    assert [r[4] for r in rows] == ["", "", "="]
    assert rows[0][2] == "sh -c echo hello > …"


def test_entries_without_a_layer_follow_the_layer_above_them() -> None:
    def entry(size: int, by: str) -> HistoryEntry:
        return HistoryEntry("<missing>", 0, by, size)

    image = ImageLayers("x", (), ("l1", "l2", "l3"), 0, (
        entry(0, "/bin/sh -c #(nop) CMD [\"sh\"]"),
        entry(0, "/bin/sh -c touch /nothing"),  # a layer of size 0
        entry(5, "/bin/sh -c add b"),
        entry(0, "/bin/sh -c #(nop) ENV A=1"),
        entry(9, "/bin/sh -c #(nop) ADD file:a in /"),
    ))
    assert image.layered_entries() == (False, True, True, False, True)
    assert shared_entries(image, 1) == (False, False, False, False, True)
    assert shared_entries(image, 2) == (False, False, True, True, True)
    # Metadata on top of every layer is no base: the images differ there.
    assert shared_entries(image, 3) == (False, True, True, True, True)
