"""Disk usage (``docker system df``) and prune model: swarmtui.model.disk.

The CLI goldens (``fixtures/engine/cli_goldens_v1.41.json``) were produced by the real docker
CLI 28.2.2 and 20.10.24 reading the ``df_*.json`` / ``prune_responses_*.json`` fixtures from a
stub Engine API on a private unix socket (no daemon involved), with timestamps shifted so that
ages relative to the CLI's clock equal ages relative to the recorded ``now``.

Fixtures: ``df_v1.41.json`` is the lab capture (Docker 20.10, API 1.41) unchanged;
``df_v1.41_rich.json`` / ``_negative`` / ``_empty`` / ``_nulls`` are crafted in the 1.41 shape;
``df_v1.52.json`` (no ``verbose``: ``*Usage`` totals plus the legacy lists 1.52 still sends) and
``df_v1.52_verbose.json`` (``*Usage`` with ``Items``) hold the rich data in the API 1.52 shape
(Engine API reference, SystemDataUsage), with the totals the 29.x daemon computes
(moby daemon/disk_usage.go); dangling images there have empty RepoTags/RepoDigests lists.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from swarmtui.model.disk.engine_state import EngineState, engine_state_from_json
from swarmtui.model.disk.prune_images import image_matches_ref, plan_images_prune
from swarmtui.model.disk.prune_plan import (
    PruneFilters,
    blanket_prune_is_safe,
    labels_match,
    plan_build_cache_prune,
    plan_containers_prune,
    plan_networks_prune,
    plan_volumes_prune,
    resolve_until_ns,
)
from swarmtui.model.disk.prune_result import (
    ImageDeleteRecord,
    PruneResult,
    compare_plan_result,
    parse_prune_result,
    render_prune_result,
    render_system_prune_result,
)
from swarmtui.model.disk.prune_system import plan_system_prune
from swarmtui.model.disk.render import (
    CliStyle,
    df_to_json,
    display_width,
    ellipsis,
    go_quote,
    render_df,
    render_df_verbose,
    tabwrite,
)
from swarmtui.model.disk.usage import (
    OCI_IMAGE_INDEX,
    UsageRow,
    parse_build_cache_item,
    parse_disk_usage,
    parse_image_item,
)
from swarmtui.model.disk.view import render_diff
from swarmtui.model.dockerfmt import (
    NS,
    created_since,
    human_duration,
    human_size,
    parse_go_duration_ns,
    parse_rfc3339_ns,
    percent_of,
    to_unix_ns,
    truncate_id,
)
from swarmtui.model.imageref import normalize_image_ref, parse_image_ref

FIX = Path(__file__).parent / "fixtures" / "engine"
GOLDEN = json.loads((FIX / "cli_goldens_v1.41.json").read_text())
CLIS = (("docker 28.2.2", "28"), ("docker 20.10.24", "20.10"))
DF_FIXTURES = (
    "df_v1.41.json",
    "df_v1.41_rich.json",
    "df_v1.41_empty.json",
    "df_v1.41_nulls.json",
    "df_v1.41_negative.json",
)


def load(name: str) -> Any:
    return json.loads((FIX / name).read_text())


# ------------------------------------------------------------------------------------------
# Units
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, "0B"),
        (1, "1B"),
        (999, "999B"),
        (1000, "1kB"),
        (1001, "1.001kB"),
        (1500, "1.5kB"),
        (999_999, "1000kB"),  # rounds to 4 digits before the unit is fixed, like Go
        (1_000_000, "1MB"),
        (1_500_000, "1.5MB"),
        (1_982_347, "1.982MB"),
        (1_062_500, "1.062MB"),  # exact tie 1.0625 -> ties-to-even, as Go's %g
        (1_063_500, "1.063MB"),  # 1.0635 is just below the tie in binary: rounds down
        (23_456_789, "23.46MB"),
        (104_857_600, "104.9MB"),
        (28_879_635, "28.88MB"),
        (10**18, "1EB"),
        (10**24, "1YB"),
        (10**27, "1000YB"),  # YB is the last unit
        (10**30, "1e+06YB"),
        (-1, "-1B"),
        (-993_500, "-9.935e+05B"),  # negatives are never divided (go-units)
    ],
)
def test_human_size_matches_go_units(size: int, expected: str) -> None:
    assert human_size(size) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (1_982_347, "1.98MB"),
        (23_456_789, "23.5MB"),
        (999_500, "1e+03kB"),  # the CLI really prints this (see the negative golden)
        (1_062_500, "1.06MB"),
        (4096, "4.1kB"),
        (0, "0B"),
    ],
)
def test_human_size_3_digits(size: int, expected: str) -> None:
    assert human_size(size, 3) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-5, "Less than a second"),
        (0, "Less than a second"),
        (0.999, "Less than a second"),
        (1, "1 second"),
        (43, "43 seconds"),
        (59.9, "59 seconds"),
        (60, "About a minute"),
        (119, "About a minute"),
        (120, "2 minutes"),
        (3599, "59 minutes"),
        (3600, "About an hour"),
        (5399, "About an hour"),
        (5400, "2 hours"),
        (47 * 3600 + 1799, "47 hours"),
        (47 * 3600 + 1800, "2 days"),
        (13 * 86400, "13 days"),
        (14 * 86400, "2 weeks"),
        (59 * 86400, "8 weeks"),
        (60 * 86400, "2 months"),
        (400 * 86400, "13 months"),
        (730 * 86400, "2 years"),
    ],
)
def test_human_duration_matches_go_units(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


def test_created_since_saturates_like_go() -> None:
    now = to_unix_ns(1_795_614_000)
    zero = parse_rfc3339_ns("0001-01-01T00:00:00Z")
    assert zero is not None
    assert created_since(now, zero) == "292 years ago"
    assert created_since(now, 0) == "56 years ago"


def test_percent_truncates_toward_zero() -> None:
    assert percent_of(24_520_288, 28_879_635) == 84
    assert percent_of(-993_500, 6000) == -16558  # Python's // would give -16559


def test_now_forms_agree() -> None:
    ts = 1_795_614_000
    assert to_unix_ns(ts) == ts * NS
    assert to_unix_ns(float(ts)) == ts * NS
    assert to_unix_ns(datetime.fromtimestamp(ts, UTC)) == ts * NS
    assert to_unix_ns(datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)) == ts * NS


def test_rfc3339_parsing() -> None:
    assert parse_rfc3339_ns("2023-11-14T22:13:20Z") == 1_700_000_000 * NS
    a = parse_rfc3339_ns("2026-11-20T10:00:00.123456789Z")
    b = parse_rfc3339_ns("2026-11-20T11:00:00.123456789+01:00")
    assert a == b and a is not None and a % NS == 123456789
    assert parse_rfc3339_ns("yesterday") is None
    assert parse_rfc3339_ns(None) is None


# ------------------------------------------------------------------------------------------
# References
# ------------------------------------------------------------------------------------------


def test_parse_image_ref_normalises_like_distribution_reference() -> None:
    r = parse_image_ref("busybox")
    assert r is not None and str(r) == "docker.io/library/busybox" and r.familiar == "busybox"
    assert normalize_image_ref("busybox") == "docker.io/library/busybox:latest"
    assert normalize_image_ref("docker.io/library/nginx:1.25") == normalize_image_ref(
        "nginx:1.25"
    )
    assert normalize_image_ref("index.docker.io/team/app:1") == "docker.io/team/app:1"
    r = parse_image_ref("registry.example.com:5000/team/web:1.2")
    assert r is not None and r.familiar_name == "registry.example.com:5000/team/web"
    assert r.tag == "1.2" and r.digest is None
    r = parse_image_ref("busybox:lab@sha256:" + "a" * 64)
    assert r is not None and r.tag == "lab" and r.digest == "sha256:" + "a" * 64
    r = parse_image_ref("localhost/foo")
    assert r is not None and r.domain == "localhost"
    assert parse_image_ref("Example/BadName:1") is None  # upper case repository
    assert parse_image_ref("a" * 64) is None  # an image ID
    assert parse_image_ref("") is None
    assert truncate_id("sha256:e466d4f91b5d95dd855c") == "e466d4f91b5d"


# ------------------------------------------------------------------------------------------
# docker system df: both shapes, goldens from the real CLI
# ------------------------------------------------------------------------------------------


def test_lab_capture_summary() -> None:
    du = parse_disk_usage(load("df_v1.41.json"), "1.41")
    assert du.shape == "legacy" and du.algorithm == "cli28"
    assert du.images == UsageRow(1, 1, 1_982_347, 0)
    assert du.containers == UsageRow(4, 4, 0, 0)  # SizeRw omitted when 0
    assert du.volumes == UsageRow(0, 0, 0, 0)
    assert du.build_cache == UsageRow(0, 0, 0, 0)  # BuildCache: null
    assert "Images          1         1         1.982MB   0B (0%)\n" in render_df(du)


@pytest.mark.parametrize("fixture", DF_FIXTURES)
@pytest.mark.parametrize(("cli", "style"), CLIS)
def test_render_df_byte_for_byte(fixture: str, cli: str, style: str) -> None:
    du = parse_disk_usage(load(fixture), "1.41")
    assert render_df(du) == GOLDEN[fixture][cli]["system df"]


@pytest.mark.parametrize("fixture", DF_FIXTURES)
@pytest.mark.parametrize(("cli", "style"), CLIS)
def test_render_df_verbose_byte_for_byte(fixture: str, cli: str, style: CliStyle) -> None:
    du = parse_disk_usage(load(fixture), "1.41")
    now = GOLDEN[fixture]["now"]
    assert render_df_verbose(du, now, style=style) == GOLDEN[fixture][cli]["system df -v"]


def test_render_df_verbose_accepts_datetime_now() -> None:
    du = parse_disk_usage(load("df_v1.41_rich.json"), "1.41")
    now = GOLDEN["df_v1.41_rich.json"]["now"]
    text = render_df_verbose(du, datetime.fromtimestamp(now, UTC))
    assert text == GOLDEN["df_v1.41_rich.json"]["docker 28.2.2"]["system df -v"]


def test_rich_rows_cli28() -> None:
    du = parse_disk_usage(load("df_v1.41_rich.json"), "1.41")
    assert du.images == UsageRow(5, 2, 28_879_635, 24_520_288)
    # paused counts as active; exited/created/dead are reclaimable
    assert du.containers == UsageRow(5, 2, 5_013_346, 5_012_346)
    assert du.volumes == UsageRow(3, 2, 136_316_928, 31_457_280)
    # shared records are not counted; the in-use 4kB record is not reclaimable
    assert du.build_cache == UsageRow(4, 1, 82_556_352, 82_552_256)
    assert "Build Cache     4         1         82.56MB   82.55MB\n" in render_df(du)


def test_rich_rows_cli29_legacy_algorithm() -> None:
    du = parse_disk_usage(load("df_v1.41_rich.json"), "1.41", legacy_algorithm="cli29")
    assert du.algorithm == "cli29"
    # only unused images are reclaimable: web + dangling + digest-only alpine
    assert du.images == UsageRow(5, 2, 28_879_635, 18_456_789 + 999 + 1_062_500)
    assert "Images          5         2         28.88MB   19.52MB (67%)\n" in render_df(du)


def test_cli29_volume_quirk_with_unknown_size() -> None:
    # client/system_disk_usage.go: the total skips Size -1, the used part does not.
    du = parse_disk_usage(load("df_v1.41_negative.json"), "1.41", legacy_algorithm="cli29")
    assert du.volumes == UsageRow(2, 1, 999, 1000)
    du28 = parse_disk_usage(load("df_v1.41_negative.json"), "1.41")
    assert du28.volumes == UsageRow(2, 1, 999, 999)
    assert du28.images.reclaimable == 6000 - 999_500  # LayersSize - used, negative


def test_cli29_counts_oci_index_descriptor() -> None:
    raw = {
        "LayersSize": 5000,
        "Images": [
            {
                "Id": "sha256:" + "1" * 64,
                "Size": 3000,
                "SharedSize": 0,
                "Containers": 0,
                "Descriptor": {"mediaType": OCI_IMAGE_INDEX, "size": 512},
            }
        ],
    }
    assert parse_disk_usage(raw, "1.50", legacy_algorithm="cli29").images.reclaimable == 3512
    assert parse_disk_usage(raw, "1.50").images.reclaimable == 5000


def test_cli28_container_state_is_a_substring_match() -> None:
    raw = {"Containers": [{"Id": "x", "State": "running (weird)", "SizeRw": 10}]}
    assert parse_disk_usage(raw, "1.41").containers.active_count == 1
    assert parse_disk_usage(raw, "1.41", legacy_algorithm="cli29").containers.active_count == 0


def test_v152_uses_server_totals() -> None:
    for name in ("df_v1.52.json", "df_v1.52_verbose.json"):
        du = parse_disk_usage(load(name), "1.52")
        assert du.shape == "usage" and du.algorithm == "server"
        assert du.images == UsageRow(5, 2, 28_879_635, 24_520_288)
        assert du.build_cache == UsageRow(4, 1, 82_556_352, 82_552_256)
        assert len(du.image_items) == 5 and len(du.build_cache_items) == 4
        # same table as CLI 28 prints for the equivalent legacy response
        assert render_df(du) == GOLDEN["df_v1.41_rich.json"]["docker 28.2.2"]["system df"]
    verbose = parse_disk_usage(load("df_v1.52_verbose.json"), "1.52")
    assert verbose.build_cache_items[2].parents == ("k7m2x9p4q1w8e5r3t6y0u2i4o",)
    assert verbose.image_items[2].is_dangling  # [] / [] in the 1.52 shape


def test_v152_rows_are_not_recomputed() -> None:
    raw = load("df_v1.52.json")
    raw["ImageUsage"]["Reclaimable"] = 7
    raw["ContainerUsage"]["ActiveCount"] = 99
    del raw["VolumeUsage"]
    du = parse_disk_usage(raw, "1.52")
    assert du.images.reclaimable == 7
    assert du.containers.active_count == 99
    assert du.volumes == UsageRow(0, 0, 0, 0)  # missing object -> zero row (moby client)


def test_v152_verbose_render_matches_legacy_render() -> None:
    du = parse_disk_usage(load("df_v1.52_verbose.json"), "1.52")
    legacy = parse_disk_usage(load("df_v1.41_rich.json"), "1.41")
    now = GOLDEN["df_v1.41_rich.json"]["now"]
    assert render_df_verbose(du, now) == render_df_verbose(legacy, now)


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"LayersSize": None, "Images": None, "Containers": None, "Volumes": None},
        {"ImageUsage": None, "Images": "garbage"},
    ],
)
def test_tolerates_missing_and_null(raw: dict[str, Any]) -> None:
    du = parse_disk_usage(raw, "1.41")
    assert all(row == UsageRow(0, 0, 0, 0) for _, row in du.rows())
    assert render_df(du).count("\n") == 5
    render_df_verbose(du, 0)


def test_tolerates_odd_items() -> None:
    raw = {
        "LayersSize": 100,
        "Images": [{"Id": "sha256:" + "9" * 64}],  # no sizes at all
        "Containers": [{"Id": "c" * 64, "State": "exited"}],
        "Volumes": [{"Name": "v", "UsageData": None}, {"Name": "w", "UsageData": {"Size": -1}}],
        "BuildCache": [{"ID": "q", "Size": 10, "LastUsedAt": None}],
    }
    du = parse_disk_usage(raw, "1.41")
    assert du.image_items[0].size == -1 and du.image_items[0].containers == -1
    assert du.images == UsageRow(1, 0, 100, 100)
    assert du.volumes == UsageRow(2, 0, 0, 0)
    text = render_df_verbose(du, 1_795_614_000)
    assert (
        "<none>       <none>    999999999999   56 years ago   -1B       N/A           N/A" in text
    )
    assert "\nv             N/A       N/A\nw             0         -1B\n" in text
    # a record without CreatedAt is Go's zero time: the duration saturates
    assert (
        "\nq                       10B       292 years ago               0         false\n" in text
    )


# ------------------------------------------------------------------------------------------
# Table layout helpers
# ------------------------------------------------------------------------------------------


def test_tabwrite_minwidth_padding_and_last_column() -> None:
    assert tabwrite([["A", "B", "C"]]) == "A         B         C\n"
    assert (
        tabwrite([["LONGER HEADER", "x"], ["a", "y"]]) == "LONGER HEADER   x\na               y\n"
    )


def test_ellipsis_and_quote_like_the_cli() -> None:
    assert ellipsis("sh -c 'while true; do echo x; done'", 20) == "sh -c 'while true; …"
    assert ellipsis("short", 20) == "short"
    assert ellipsis("日本語のコマンドです", 5) == "日本…"
    assert go_quote('/bin/sh -c "echo \\"x\\""') == '"/bin/sh -c \\"echo \\\\\\"x\\\\\\"\\""'
    assert go_quote("a\tb\x01é") == '"a\\tb\\x01é"'
    assert display_width("日本") == 4


# ------------------------------------------------------------------------------------------
# JSON form
# ------------------------------------------------------------------------------------------


def test_df_to_json_schema() -> None:
    du = parse_disk_usage(load("df_v1.41_rich.json"), "1.41")
    out = df_to_json(du)
    assert json.loads(json.dumps(out)) == out
    assert out["schema"] == "swarmtui.df/1"
    assert (out["api_version"], out["shape"], out["algorithm"]) == ("1.41", "legacy", "cli28")
    assert [s["type"] for s in out["summary"]] == [
        "Images",
        "Containers",
        "Local Volumes",
        "Build Cache",
    ]
    images = out["summary"][0]
    assert images == {
        "type": "Images",
        "total_count": 5,
        "active_count": 2,
        "size_bytes": 28_879_635,
        "reclaimable_bytes": 24_520_288,
        "reclaimable_percent": 84,
        "size": "28.88MB",
        "reclaimable": "24.52MB (84%)",
    }
    assert out["summary"][3]["reclaimable_percent"] is None  # never for build cache
    assert out["images"][0]["repository"] == "busybox" and out["images"][0]["tag"] == "lab"
    assert out["images"][0]["unique_size"] == 1_982_347
    assert out["containers"][1]["local_volumes"] == 1
    assert out["volumes"][1]["links"] == 1
    assert out["build_cache"][1]["last_used_at"] is not None
    assert out["build_cache"][3]["last_used_at"] is None
    neg = df_to_json(parse_disk_usage(load("df_v1.41_negative.json"), "1.41"))
    assert neg["images"][0]["unique_size"] is None and neg["images"][0]["containers"] == -1
    assert neg["images"][1]["repository"] is None  # the CLI skips that row


# ------------------------------------------------------------------------------------------
# Prune previews: crafted list JSON
# ------------------------------------------------------------------------------------------


def H(c: str) -> str:
    return "sha256:" + c * 64


def img(
    c: str,
    tags: tuple[str, ...] = (),
    digests: tuple[str, ...] = (),
    parent: str = "",
    size: int = 1000,
    shared: int = 0,
    created: int = 1_700_000_000,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "Id": H(c),
        "RepoTags": list(tags),
        "RepoDigests": list(digests),
        "ParentId": H(parent) if parent else "",
        "Created": created,
        "Size": size,
        "SharedSize": shared,
        "Containers": -1,
        "Labels": labels,
    }


def ctr(
    cid: str,
    image: str,
    image_id: str,
    state: str,
    *,
    labels: dict[str, str] | None = None,
    mounts: tuple[dict[str, Any], ...] = (),
    nets: tuple[str, ...] = (),
    created: int = 1_700_000_000,
) -> dict[str, Any]:
    return {
        "Id": cid * 64,
        "Names": [f"/{cid}_ctr"],
        "Image": image,
        "ImageID": H(image_id),
        "Command": "true",
        "State": state,
        "Status": state,
        "Created": created,
        "Labels": labels or {},
        "Mounts": list(mounts),
        "NetworkSettings": {"Networks": {n: {"NetworkID": "id_" + n} for n in nets}},
    }


def service(
    sid: str,
    name: str,
    image: str,
    previous: str | None = None,
    networks: tuple[str, ...] = (),
    volumes: tuple[str, ...] = (),
) -> dict[str, Any]:
    def spec(image: str) -> dict[str, Any]:
        return {
            "Name": name,
            "TaskTemplate": {
                "ContainerSpec": {
                    "Image": image,
                    "Mounts": [{"Type": "volume", "Source": v, "Target": "/d"} for v in volumes],
                },
                "Networks": [{"Target": n} for n in networks],
            },
        }

    out: dict[str, Any] = {"ID": sid, "Spec": spec(image)}
    if previous is not None:
        out["PreviousSpec"] = spec(previous)
    return out


DIGEST_API = "sha256:" + "7" * 64
IMAGES = [
    img("a", ("app:1",)),  # tagged, unused
    img("b"),  # dangling
    img("c", ("db:2",)),  # used by a stopped container
    img("d", ("web:1", "web:latest")),  # used by a running container, two tags
    img("e", (), ("alpine@sha256:" + "e" * 64,)),  # digest only, unused
    img("f"),  # untagged parent of g
    img("1", parent="f"),  # dangling leaf
    img("2"),  # untagged parent of a tagged child
    img("3", ("built:1",), parent="2"),
    img("4"),  # dangling, used by a stopped container (created by ID)
    img("5", ("svc:2",)),  # service spec, no task on this node
    img("6", ("svc:1",)),  # service PreviousSpec only
    img("7", (), ("registry.example.com/team/api@" + DIGEST_API,)),  # by digest
    img("8", ("nginx:1.25",)),  # service uses docker.io/library/nginx:1.25
    img("9", ("idref:1",)),  # service refers to it by image ID
]
CONTAINERS = [
    ctr("x", "db:2", "c", "exited"),
    ctr("y", "web:latest", "d", "running"),
    ctr("z", "4" * 12, "4", "exited"),
]
SERVICES = [
    service("s1", "svc", "svc:2", previous="docker.io/library/svc:1"),
    service("s2", "api", "registry.example.com/team/api:3@" + DIGEST_API),
    service("s3", "proxy", "docker.io/library/nginx:1.25"),
    service("s4", "byid", H("9")),
]


def state(api: str = "1.41", **kw: Any) -> EngineState:
    args: dict[str, Any] = {"images": IMAGES, "containers": CONTAINERS, "services": SERVICES}
    args.update(kw)
    return engine_state_from_json(api, **args)


def short(ids: Any) -> list[str]:
    return sorted(i[7:8] if i.startswith("sha256:") else i for i in ids)


def test_images_dangling_plan() -> None:
    plan = plan_images_prune(state())
    assert plan.endpoint == "/images/prune"
    assert plan.query == (("filters", '{"dangling":{"true":true}}'),)
    # dangling leaf 1 and its untagged parent f, dangling b, digest-only e
    assert short(plan.item_ids) == ["1", "b", "e", "f"]
    by = {i.id: i for i in plan.items}
    assert "untagged parent of pruned image 111111111111" in by[H("f")].flags
    assert by[H("f")].targets == ()  # goes with its child
    assert by[H("1")].targets == (H("1"),)
    assert by[H("e")].untags == ("alpine@sha256:" + "e" * 64,)
    assert plan.estimated_bytes == 4000
    kept = {i.id: i.flags for i in plan.kept}
    assert kept[H("a")] == ("tagged (dangling prune keeps tagged images)",)
    assert kept[H("4")] == ("used by stopped container z_ctr",)
    assert kept[H("2")] == ("has child images",)
    # digest-only service image: the engine would remove it, the plan protects it
    assert short(i.id for i in plan.protected) == ["7"]
    assert plan.protected[0].flags[:2] == (
        "used by service api spec",
        "the engine's prune would delete it",
    )
    assert not blanket_prune_is_safe(plan)


def test_images_all_unused_plan() -> None:
    plan = plan_images_prune(state(), all_unused=True)
    assert plan.query == (("filters", '{"dangling":{"false":true}}'),)
    deleted = [i.id for i in plan.items if i.action == "delete"]
    assert short(deleted) == ["1", "2", "3", "a", "b", "e", "f"]
    # image used by a stopped container is kept (its last reference cannot go)
    assert H("c") not in plan.item_ids
    assert "its last reference stays: container x_ctr uses it" in {
        f for i in plan.kept if i.id == H("c") for f in i.flags
    }
    # image used by a running container loses its extra tag only (lexical order)
    web = next(i for i in plan.items if i.id == H("d"))
    assert (web.action, web.untags, web.size) == ("untag", ("web:1",), 0)
    assert web.flags == ("untag only: its last reference stays: container y_ctr uses it",)
    # service images: spec, PreviousSpec (rollback), digest, docker.io/library, ID
    prot = {i.id: i.flags[0] for i in plan.protected}
    assert prot == {
        H("5"): "used by service svc spec",
        H("6"): "needed for rollback of service svc (PreviousSpec)",
        H("7"): "used by service api spec",
        H("8"): "used by service proxy spec",
        H("9"): "used by service byid spec",
    }
    assert not set(prot) & set(plan.item_ids)
    assert not set(prot) & {i.id for i in plan.kept}
    assert plan.estimated_bytes == 7000
    assert not blanket_prune_is_safe(plan)


def test_lab_prune_all_would_untag_the_service_tag() -> None:
    # The lab image carries busybox:lab and busybox:lab2 and runs every task. The engine's
    # `image prune -a` untags busybox:lab (first in lexical order; an image with two tags is
    # not a "single reference", so being in use does not stop the untag) and keeps lab2 --
    # new tasks of every service would then fail to find busybox:lab on this node.
    st = engine_state_from_json(
        "1.41",
        df=load("df_v1.41.json"),
        services=load("v1.41/services_status.json"),
        is_manager=True,
    )
    plan = plan_images_prune(st, all_unused=True)
    assert plan.items == ()
    (prot,) = plan.protected
    assert (prot.action, prot.untags) == ("untag", ("busybox:lab",))
    assert "used by service w8 spec" in prot.flags
    assert "needed for rollback of service peer_a (PreviousSpec)" in prot.flags
    assert not blanket_prune_is_safe(plan)
    assert blanket_prune_is_safe(plan_images_prune(st))  # dangling: nothing to do


def test_previous_spec_only_image_is_protected() -> None:
    st = engine_state_from_json(
        "1.41",
        images=[img("6", ("svc:1",)), img("5", ("svc:2",))],
        containers=[ctr("t", "svc:2", "5", "running")],
        services=[service("s1", "svc", "svc:2", previous="svc:1")],
    )
    plan = plan_images_prune(st, all_unused=True)
    assert plan.items == ()
    assert [(i.id, i.flags[0]) for i in plan.protected] == [
        (H("6"), "needed for rollback of service svc (PreviousSpec)")
    ]
    unprotected = plan_images_prune(st, all_unused=True, protect_services=False)
    assert unprotected.item_ids == (H("6"),) and unprotected.protected == ()
    assert blanket_prune_is_safe(unprotected)


def test_blanket_prune_safe_without_services() -> None:
    plan = plan_images_prune(state(services=[]), all_unused=True)
    assert plan.protected == ()
    assert blanket_prune_is_safe(plan)
    assert H("5") in plan.item_ids and H("7") in plan.item_ids


def test_protection_by_image_id_of_task_containers() -> None:
    # The service now points at a tag that no longer names this image; an exited task
    # container of the service still records the image ID.
    st = engine_state_from_json(
        "1.41",
        images=[img("a")],
        containers=[
            ctr("t", "old:1", "a", "exited", labels={"com.docker.swarm.service.name": "svc"}),
        ],
        services=[service("s1", "svc", "new:2", previous="old:1")],
    )
    plan = plan_system_prune(st, all_unused=True)
    images = next(s for s in plan.steps if s.kind == "images")
    assert images.item_ids == ()
    assert [i.flags[0] for i in images.protected] == [
        "needed for rollback of service svc (PreviousSpec), by the image ID of its task "
        "container t_ctr"
    ]
    # a task container of an older spec does not protect its image
    st = engine_state_from_json(
        "1.41",
        images=[img("a")],
        containers=[
            ctr("t", "ancient:0", "a", "exited", labels={"com.docker.swarm.service.name": "svc"}),
        ],
        services=[service("s1", "svc", "new:2", previous="old:1")],
    )
    plan = plan_system_prune(st, all_unused=True)
    assert plan.protected == () and H("a") in plan.item_ids


def test_image_matches_ref() -> None:
    image = parse_image_item(
        img("7", ("team/api:3",), ("registry.example.com/team/api@" + DIGEST_API,))
    )
    assert image_matches_ref(image, "docker.io/team/api:3")
    assert image_matches_ref(image, "other/name@" + DIGEST_API)
    assert image_matches_ref(image, "team/api:9@" + DIGEST_API)
    assert image_matches_ref(image, "777777777777")
    assert image_matches_ref(image, H("7"))
    assert not image_matches_ref(image, "team/api")  # :latest
    assert not image_matches_ref(image, "team/api:4")
    assert not image_matches_ref(image, "77777")  # too short to be an ID prefix


def test_images_until_and_label_filters() -> None:
    imgs = [
        img("a", created=1_700_000_000, labels={"keep": "no"}),
        img("b", created=1_700_100_000),
        img("c", created=1_600_000_000, labels={"keep": "yes"}),
    ]
    st = engine_state_from_json("1.41", images=imgs)
    now = 1_700_050_000
    plan = plan_images_prune(st, filters=PruneFilters(until="10h"), now=now)
    assert short(plan.item_ids) == ["a", "c"]
    plan = plan_images_prune(st, filters=PruneFilters(labels_not=("keep=yes",)))
    assert short(plan.item_ids) == ["a", "b"]
    plan = plan_images_prune(st, filters=PruneFilters(labels=("keep",)))
    assert short(plan.item_ids) == ["a", "c"]
    assert plan.query == (("filters", '{"dangling":{"true":true},"label":{"keep":true}}'),)
    with pytest.raises(ValueError):
        plan_images_prune(st, filters=PruneFilters(until="10h"))


def test_image_estimate_bounds_with_shared_layers() -> None:
    imgs = [
        img("a", size=5000, shared=2000),
        img("b", size=3000, shared=2000),
        img("c", ("kept:1",), size=4000, shared=0),
    ]
    df = {"LayersSize": 3000 + 1000 + 2000 + 4000, "Images": imgs}
    st = engine_state_from_json(
        "1.41", images=imgs, df=df, containers=[ctr("k", "kept:1", "c", "running")]
    )
    plan = plan_images_prune(st)
    assert plan.estimated_bytes == 4000  # unique parts only
    assert plan.max_bytes == 6000  # everything but what the kept image holds
    assert any("max_bytes" in w for w in plan.warnings)


def test_warns_about_unlisted_parent_images() -> None:
    st = engine_state_from_json("1.41", images=[img("1", parent="f")])
    plan = plan_images_prune(st)
    assert plan.item_ids == (H("1"),)
    assert any("/images/json?all=1" in w for w in plan.warnings)


def test_containerd_store_differs() -> None:
    st = state(image_store="containerd", services=[])
    dangling = plan_images_prune(st)
    # digest-only names are not dangling in the containerd store (there are no parent
    # chains either: every untagged image is its own record)
    assert short(dangling.item_ids) == ["1", "2", "b", "f"]
    everything = plan_images_prune(st, all_unused=True)
    web = next(i for i in everything.items if i.id == H("d"))
    assert web.action == "untag" and web.untags == ("docker.io/library/web:1",)
    assert H("c") not in everything.item_ids  # the container was created from db:2


def test_containers_plan() -> None:
    raw = [
        ctr("r", "a", "a", "running"),
        ctr("p", "a", "a", "paused"),
        ctr("s", "a", "a", "restarting"),
        ctr("e", "a", "a", "exited", labels={"com.docker.swarm.service.name": "w8"}),
        ctr("c", "a", "a", "created", created=1_800_000_000),
        ctr("d", "a", "a", "dead"),
        ctr("m", "a", "a", "removing"),
    ]
    df = {"Containers": [dict(raw[3], SizeRw=12345), dict(raw[5], SizeRw=5)]}
    st = engine_state_from_json("1.41", containers=raw, df=df)
    plan = plan_containers_prune(st)
    assert [i.id[0] for i in plan.items] == ["e", "c", "d"]
    assert plan.estimated_bytes == 12350
    assert "task container of service w8 (task history)" in plan.items[0].flags
    assert {i.id[0]: i.flags[0] for i in plan.kept} == {
        "r": "running",
        "p": "paused",
        "s": "restarting",
        "m": "removal already in progress",
    }
    later = plan_containers_prune(st, PruneFilters(until="1750000000"))
    assert [i.id[0] for i in later.items] == ["e", "d"]
    unknown = plan_containers_prune(engine_state_from_json("1.41", containers=raw))
    assert unknown.estimated_bytes == 0 and unknown.warnings


def _vol(name: str, driver: str = "local", **kw: Any) -> dict[str, Any]:
    return {"Name": name, "Driver": driver, "Scope": "local", "Mountpoint": "/x", **kw}


ANON_LABEL = {"com.docker.volume.anonymous": ""}
VOLUMES = {
    "Volumes": [
        _vol("named_unused"),
        _vol("a" * 64, Labels=ANON_LABEL),
        _vol("b" * 64),
        _vol("used"),
        _vol("nfsdata", driver="nfs"),
        _vol("withopts", Options={"type": "nfs", "device": ":/x"}),
    ],
    "Warnings": None,
}
VOL_DF = {
    "Volumes": [
        _vol("named_unused", UsageData={"Size": 5000, "RefCount": 0}),
        _vol("a" * 64, Labels=ANON_LABEL, UsageData={"Size": 7000, "RefCount": 0}),
        _vol("b" * 64, UsageData={"Size": 9000, "RefCount": 0}),
        _vol("used", UsageData={"Size": 100, "RefCount": 1}),
    ]
}


@pytest.mark.parametrize(
    ("api", "all_volumes", "expected", "query"),
    [
        ("1.41", False, ["aaaa", "bbbb", "named_unused"], ()),
        ("1.41", True, ["aaaa", "bbbb", "named_unused"], ()),
        ("1.42", False, ["aaaa"], ()),
        ("1.52", True, ["aaaa", "bbbb", "named_unused"], (("filters", '{"all":{"true":true}}'),)),
    ],
)
def test_volumes_plan_by_api_version(
    api: str, all_volumes: bool, expected: list[str], query: tuple[tuple[str, str], ...]
) -> None:
    st = engine_state_from_json(api, volumes=VOLUMES, df=VOL_DF, containers=[])
    plan = plan_volumes_prune(st, all_volumes=all_volumes)
    assert sorted(i.id[:4] if len(i.id) == 64 else i.id for i in plan.items) == expected
    assert plan.query == query
    kept = {i.id: i.flags[0] for i in plan.kept}
    assert kept["nfsdata"] == "driver nfs is not local"
    assert kept["withopts"].startswith("has mount options")
    assert kept["used"].startswith("in use")
    if api == "1.42":
        assert "lacks the com.docker.volume.anonymous label" in kept["b" * 64]
        assert plan.estimated_bytes == 7000


def test_volume_in_use_by_stopped_container_and_service_flag() -> None:
    mount = {"Type": "volume", "Name": "pg", "Driver": "local", "Destination": "/d"}
    st = engine_state_from_json(
        "1.41",
        volumes=[_vol("pg"), _vol("cache")],
        containers=[ctr("s", "a", "a", "exited", mounts=(mount,))],
        services=[service("s1", "db", "a", volumes=("cache",))],
    )
    plan = plan_volumes_prune(st)
    assert plan.item_ids == ("cache",)
    assert plan.items[0].flags == ("mounted by service db", "size unknown")
    assert plan.kept[0].flags == ("in use by container s_ctr",)
    with pytest.raises(ValueError):
        plan_volumes_prune(st, filters=PruneFilters(until="1h"))


NETWORKS = [
    {"Name": n, "Id": "id_" + n, "Scope": sc, "Driver": dr, "Ingress": n == "ingress"}
    for n, sc, dr in [
        ("bridge", "local", "bridge"),
        ("host", "local", "host"),
        ("none", "local", "null"),
        ("ingress", "swarm", "overlay"),
        ("docker_gwbridge", "local", "bridge"),
        ("backend", "local", "bridge"),
        ("frontend", "local", "bridge"),
        ("stoppedonly", "local", "bridge"),
        ("stack_default", "swarm", "overlay"),
        ("orphan_overlay", "swarm", "overlay"),
    ]
]
NET_CONTAINERS = [
    ctr("w", "a", "a", "running", nets=("frontend",)),
    ctr("o", "a", "a", "exited", nets=("stoppedonly",)),
]
NET_SERVICES = [service("s1", "stack_web", "a", networks=("id_stack_default",))]


def test_networks_plan_on_manager() -> None:
    st = engine_state_from_json(
        "1.41", networks=NETWORKS, containers=NET_CONTAINERS, services=NET_SERVICES, is_manager=True
    )
    plan = plan_networks_prune(st)
    # cluster networks first, then local ones (daemon/prune.go)
    assert plan.item_ids == ("orphan_overlay", "backend", "stoppedonly")
    assert plan.estimated_bytes == 0
    kept = {i.id: i.flags[0] for i in plan.kept}
    for name in ("bridge", "host", "none"):
        assert kept[name] == "predefined network: never pruned"
    assert kept["ingress"] == "swarm routing-mesh (ingress) network: never pruned"
    assert kept["docker_gwbridge"] == "holds the swarm ingress sandbox endpoint"
    assert kept["frontend"] == "in use by container w_ctr"
    assert kept["stack_default"] == "in use by service stack_web"
    flags = {i.id: i.flags for i in plan.items}
    assert flags["stoppedonly"] == (
        "attached to stopped container o_ctr: it cannot start after the prune",
    )


def test_networks_plan_on_worker_and_outside_swarm() -> None:
    st = engine_state_from_json(
        "1.41", networks=NETWORKS, containers=NET_CONTAINERS, services=NET_SERVICES
    )
    plan = plan_networks_prune(st)
    assert plan.item_ids == ("backend", "stoppedonly")
    assert {i.id: i.flags[0] for i in plan.kept}["orphan_overlay"] == (
        "swarm-scoped: only a manager prunes it"
    )
    solo = plan_networks_prune(
        engine_state_from_json("1.41", networks=NETWORKS, swarm_active=False)
    )
    assert "docker_gwbridge" in solo.item_ids


def test_network_referenced_by_previous_spec_is_flagged() -> None:
    svc = service("s1", "web", "a", previous="a", networks=("id_new",))
    svc["PreviousSpec"]["TaskTemplate"]["Networks"] = [{"Target": "id_old"}]
    nets = [{"Name": "old", "Id": "id_old", "Scope": "swarm", "Attachable": True}]
    st = engine_state_from_json("1.41", networks=nets, services=[svc], is_manager=True)
    (item,) = plan_networks_prune(st).items
    assert "referenced by PreviousSpec of service web: kept while a task of web still uses it" in (
        item.flags
    )
    assert "attachable: kept if a container on another node uses it" in item.flags


def test_build_cache_plan_with_and_without_all() -> None:
    du = parse_disk_usage(load("df_v1.41_rich.json"), "1.41")
    extra = [
        {"ID": "internal1", "Type": "internal", "Size": 11, "InUse": False},
        {"ID": "frontend1", "Type": "frontend", "Size": 22, "InUse": False},
    ]
    st = engine_state_from_json("1.41", df=du)
    st = EngineState(
        api_version="1.41",
        build_cache=(*st.build_cache, *(parse_build_cache_item(x) for x in extra)),
    )
    plan = plan_build_cache_prune(st)
    assert plan.item_ids == ("k7m2x9p4q1w8e5r3t6y0u2i4o", "z1x2c3v4b5n6m7l8k9j0h1g2f")
    assert plan.estimated_bytes == 30_123_456 + 52_428_800
    assert plan.query == ()
    kept = {i.id: i.flags[0] for i in plan.kept}
    assert kept["a1s2d3f4g5h6j7k8l9z0x1c2v"] == "in use"
    assert kept["q9w8e7r6t5y4u3i2o1p0a9s8d"] == "shared with images (only pruned with all)"
    assert kept["internal1"] == "internal record (only pruned with all)"
    full = plan_build_cache_prune(st, all_cache=True)
    assert len(full.items) == 5 and full.query == (("all", "1"),)
    assert full.estimated_bytes == 30_123_456 + 52_428_800 + 11 + 22  # shared frees nothing
    now = GOLDEN["df_v1.41_rich.json"]["now"]
    recent = plan_build_cache_prune(st, filters=PruneFilters(until="72h"), now=now)
    # k7m2… was last used 2 days ago (kept); z1x2… has no LastUsedAt, so buildkit prunes it
    assert recent.item_ids == ("z1x2c3v4b5n6m7l8k9j0h1g2f",)


def test_system_prune_order_and_sequential_effects() -> None:
    pg = {"Type": "volume", "Name": "a" * 64, "Driver": "local", "Destination": "/d"}
    st = engine_state_from_json(
        "1.42",
        images=[img("a", ("old:1",), size=4000), img("b", ("live:1",))],
        containers=[
            ctr("e", "old:1", "a", "exited", mounts=(pg,), nets=("backend",)),
            ctr("r", "live:1", "b", "running"),
        ],
        volumes=[_vol("a" * 64, Labels=ANON_LABEL)],
        df={
            "Containers": [{"Id": "e" * 64, "SizeRw": 100}],
            "Volumes": [_vol("a" * 64, Labels=ANON_LABEL, UsageData={"Size": 50, "RefCount": 1})],
        },
        networks=[{"Name": "backend", "Id": "id_backend", "Scope": "local"}],
    )
    plan = plan_system_prune(st, all_unused=True, volumes=True)
    assert [s.kind for s in plan.steps] == [
        "containers",
        "networks",
        "volumes",
        "images",
        "build_cache",
    ]
    assert [i.kind for i in plan.items] == ["container", "network", "volume", "image"]
    # the image and the volume were used only by the exited container: pruned too
    assert plan.steps[2].item_ids == ("a" * 64,)
    assert plan.steps[3].item_ids == (H("a"),)
    assert plan.steps[4].query == (("all", "1"),)
    assert plan.estimated_bytes == 100 + 50 + 4000
    assert blanket_prune_is_safe(plan)
    plain = plan_system_prune(st)
    assert [s.kind for s in plain.steps] == ["containers", "networks", "images", "build_cache"]
    assert plain.steps[2].item_ids == ()  # dangling only: old:1 is tagged
    with pytest.raises(ValueError):
        plan_system_prune(st, volumes=True, filters=PruneFilters(until="24h"))


def test_system_prune_carries_image_protection() -> None:
    plan = plan_system_prune(state(), all_unused=True)
    assert not blanket_prune_is_safe(plan)
    assert {i.id for i in plan.protected} == {H(c) for c in "56789"}


def test_filters_helpers() -> None:
    assert parse_go_duration_ns("1h30m") == 5400 * NS
    assert parse_go_duration_ns("1.5h") == 5400 * NS
    assert parse_go_duration_ns("-5m") == -300 * NS
    assert parse_go_duration_ns("24") is None
    assert resolve_until_ns("24h", 100_000) == (100_000 - 86400) * NS
    assert resolve_until_ns("1700000000", None) == 1_700_000_000 * NS
    assert resolve_until_ns("1700000000.5", None) == 1_700_000_000 * NS + NS // 2
    assert resolve_until_ns("2023-11-14T22:13:20Z", None) == 1_700_000_000 * NS
    assert resolve_until_ns("2023-11-14", None) == 1_699_920_000 * NS
    assert resolve_until_ns("2023-11-14T22:13:20", None) == 1_700_000_000 * NS  # UTC
    with pytest.raises(ValueError):
        resolve_until_ns("soon", None)
    f = PruneFilters(labels=("a=1", "b"), labels_not=("c",))
    assert labels_match(f, (("a", "1"), ("b", "x")))
    assert not labels_match(f, (("a", "2"), ("b", "x")))
    assert not labels_match(f, (("a", "1"), ("b", "x"), ("c", "")))
    assert not labels_match(f, ())
    assert labels_match(PruneFilters(), ())
    assert f.as_query() == '{"label":{"a=1":true,"b":true},"label!":{"c":true}}'


# ------------------------------------------------------------------------------------------
# Prune results
# ------------------------------------------------------------------------------------------

RESULT_KINDS = {
    "container": "containers",
    "image": "images",
    "network": "networks",
    "volume": "volumes",
    "builder": "build_cache",
}
ENDPOINTS = {
    "containers": "POST /containers/prune",
    "images": "POST /images/prune",
    "networks": "POST /networks/prune",
    "volumes": "POST /volumes/prune",
    "build_cache": "POST /build/prune",
}


@pytest.mark.parametrize(
    "fixture",
    [
        "prune_responses_v1.41.json",
        "prune_responses_v1.41_empty.json",
        "prune_responses_v1.41_zero.json",
    ],
)
@pytest.mark.parametrize("cli", [c for c, _ in CLIS])
def test_render_prune_results_byte_for_byte(fixture: str, cli: str) -> None:
    responses = load(fixture)
    results = {k: parse_prune_result(k, responses[e]) for k, e in ENDPOINTS.items()}
    for command, expected in GOLDEN[fixture][cli].items():
        words = command.split()
        if words[0] == "system":
            order = ["containers", "networks"]
            order += ["volumes"] if "--volumes" in words else []
            order += ["images", "build_cache"]
            got = render_system_prune_result([results[k] for k in order])
        else:
            got = render_prune_result(results[RESULT_KINDS[words[0]]])
        assert got == expected, command


def test_parse_prune_results() -> None:
    r = parse_prune_result("images", load("prune_responses_v1.41.json")["POST /images/prune"])
    alpine = "alpine@sha256:13b7e62e8df80264dbb747995705a986aa530415763a6c58f84a3ca8af9a5bcd"
    assert r.images[0] == ImageDeleteRecord(untagged=alpine)
    assert r.images[1] == ImageDeleteRecord(deleted="sha256:" + "c0ffee00" * 8)
    assert r.space_reclaimed == 1_062_500
    n = parse_prune_result("networks", {"NetworksDeleted": ["a"]})
    assert n.space_reclaimed is None and n.reclaimed == 0
    assert parse_prune_result("volumes", None) == PruneResult("volumes")
    with pytest.raises(ValueError):
        parse_prune_result("bogus", {})
    assert render_prune_result(PruneResult("containers")) == "Total reclaimed space: 0B\n"


def test_compare_plan_and_result() -> None:
    plan = plan_images_prune(state(services=[]), all_unused=True)
    deleted = [i.id for i in plan.items if i.action == "delete"]
    records = [{"Untagged": u} for i in plan.items for u in i.untags]
    records += [{"Deleted": x} for x in deleted if x != H("a")]
    records += [{"Deleted": "sha256:" + "0" * 64}, {"Deleted": H("c")}]
    result = parse_prune_result("images", {"ImagesDeleted": records, "SpaceReclaimed": 1})
    diff = compare_plan_result(plan, result)
    assert diff.planned_not_removed == (H("a"),)
    assert diff.removed_not_planned == (H("c"),)
    assert diff.unmatched == ("sha256:" + "0" * 64,)  # a layer
    assert not diff.matches

    cplan = plan_containers_prune(engine_state_from_json("1.41", containers=CONTAINERS))
    ok = compare_plan_result(cplan, PruneResult("containers", deleted=cplan.item_ids))
    assert ok.matches
    off = compare_plan_result(cplan, PruneResult("containers", deleted=("q" * 64,)))
    assert off.planned_not_removed == cplan.item_ids and off.removed_not_planned == ("q" * 64,)


def test_compare_system_plan() -> None:
    st = engine_state_from_json(
        "1.41", containers=CONTAINERS, images=[img("b")], networks=NETWORKS[5:6]
    )
    plan = plan_system_prune(st)
    results = [
        PruneResult("containers", deleted=plan.steps[0].item_ids),
        PruneResult("networks", deleted=("backend",)),
        PruneResult("images", images=(ImageDeleteRecord(deleted=H("b")),)),
        PruneResult("build_cache"),
    ]
    assert compare_plan_result(plan, results).matches
    assert compare_plan_result(plan, results[:1]).planned_not_removed == ("backend", H("b"))


def test_a_kept_swarm_network_reported_deleted_is_a_node_copy_not_a_surprise() -> None:
    """On the lab the manager's prune reported an overlay a service uses as deleted: its local
    prune dropped the node's copy while the service's task there restarted; the swarm network
    stayed. The preview was right: that is not "removed but not listed"."""
    st = engine_state_from_json(
        "1.41", networks=NETWORKS, containers=NET_CONTAINERS, services=NET_SERVICES, is_manager=True
    )
    plan = plan_networks_prune(st)
    used = next(k for k in plan.kept if k.flags[0] == "in use by service stack_web")
    diff = compare_plan_result(plan, PruneResult("networks",
                                                 deleted=(*plan.item_ids, used.id)))
    assert diff.matches and diff.node_copies == (used.id,)
    said = render_diff(diff)
    assert said.startswith("Removed exactly what the preview listed.")
    assert f"{used.id} deleted: only this node's copy" in said and "stays, in use" in said
    # Anything else unplanned still counts as a difference.
    other = compare_plan_result(plan, PruneResult("networks", deleted=(*plan.item_ids, "x")))
    assert other.removed_not_planned == ("x",) and not other.matches
