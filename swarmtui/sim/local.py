"""The leader's local engine objects beyond its task containers, and the local endpoints.

``/system/df``, ``/containers/json``, ``/images/json`` and ``/volumes`` all derive from one
inventory (:func:`swarmtui.sim.inventory.inventory`): the leader's task containers (minus
removed ones), the images the leader pulled (``SimNode.images``), the volumes those containers
mount, plus the extras kept in ``SimCore.local`` (leftover exited containers, a dangling
image, an anonymous volume). Prunes and deletes mutate that same data, so df reflects them
afterwards.

Semantics follow dockerd 20.10 (API 1.41, graphdriver store): an image referenced by any
container (running or not) is never removed; ``/volumes/prune`` removes every unused local
volume (the ``all`` filter only exists from API 1.42); every prune emits a ``prune`` event
with ``reclaimed``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from swarmtui.sim.core import SimCore
from swarmtui.sim.inventory import image_id, inventory
from swarmtui.sim.objects import NONE_DIGEST, NONE_TAG, LocalContainer, LocalImage, LocalVolume
from swarmtui.sim.util import (
    NS,
    Filters,
    Json,
    SimError,
    go_duration_ns,
    invalid,
    labels_match,
    not_found,
)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- filters


def _until_ns(c: SimCore, value: str) -> int:
    """moby ``timetypes.GetTimestamp``: unix seconds, RFC3339 or a Go duration before now."""
    dur = go_duration_ns(value)
    if dur is not None:
        return c.now_ns - dur
    try:
        return int(float(value) * NS)
    except ValueError:
        pass
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * NS)
    except ValueError:
        raise invalid(f"failed to parse value as time or duration: \"{value}\"") from None


def _prune_match(c: SimCore, f: Filters, labels: dict[str, str] | None, created_ns: int) -> bool:
    labels = labels or {}
    for until in f.get("until", ()):
        if created_ns >= _until_ns(c, until):
            return False
    if not labels_match(f, labels):
        return False
    for want in f.get("label!", ()):
        name, sep, value = want.partition("=")
        if name in labels and (not sep or labels[name] == value):
            return False
    return True


def _check(f: Filters, accepted: tuple[str, ...]) -> None:
    for key in f:
        if key not in accepted:
            raise invalid(f"invalid filter '{key}'")


# --------------------------------------------------------------------------- inventory


# --------------------------------------------------------------------------- seeding


def add_demo_leftovers(c: SimCore) -> None:
    """Two exited containers of the failing service (task history the store already dropped),
    one dangling image (an old local build) and one unused anonymous volume, on the leader."""
    failing = sorted(
        (t for t in c.tasks.values() if t.state == "failed"), key=lambda t: t.meta.created_ns
    )
    node = c.nodes[c.local_node_id]
    if failing:
        t = failing[0]
        cs: Any = t.spec.get("ContainerSpec", {})
        image = str(cs.get("Image", ""))
        node.images.add(image)
        for i in range(2):
            task_id = c.rng.swarm_id()
            name = f"{t.service_name}.{t.slot or 1}.{task_id}"
            labels = dict(cs.get("Labels") or {})
            labels.update({
                "com.docker.swarm.node.id": c.local_node_id,
                "com.docker.swarm.service.id": t.service_id,
                "com.docker.swarm.service.name": t.service_name,
                "com.docker.swarm.task": "",
                "com.docker.swarm.task.id": task_id,
                "com.docker.swarm.task.name": name,
            })
            created = c.start_ns - (3 - i) * 3600 * NS
            cid = c.rng.hex64()
            c.local.containers[cid] = LocalContainer(
                cid, name, image, t.profile.command, created, created + 40 * NS,
                t.exit_code or 1, labels, 4096 * (3 + 5 * i))
    old = c.rng.hex64()
    c.local.images["sha256:" + old] = LocalImage(
        "sha256:" + old, (c.start_ns // NS) - 9 * 86400, 87_100_000,
        labels={"org.opencontainers.image.title": "shop-api"})
    vol = c.rng.hex64()
    c.local.volumes[vol] = LocalVolume(vol, c.start_ns - 2 * 86400 * NS, 12_288_000)


# --------------------------------------------------------------------------- listings


def containers_json(c: SimCore, all_: bool, size: bool, f: Filters,
                    node_id: str | None = None) -> list[Json]:
    _, containers, _ = inventory(c, node_id)
    out = []
    for e in containers:
        if not all_ and not f and e["State"] != "running":
            continue
        if f.get("status") and e["State"] not in f["status"]:
            continue
        if f.get("id") and not any(str(e["Id"]).startswith(v) for v in f["id"]):
            continue
        if f.get("name") and not any(v.lstrip("/") in str(e["Names"][0]) for v in f["name"]):
            continue
        if not labels_match(f, e.get("Labels") or {}):
            continue
        e = dict(e)
        if not size:
            e.pop("SizeRw", None)
            e.pop("SizeRootFs", None)
        out.append(e)
    return sorted(out, key=lambda e: -int(e["Created"]))


def images_json(c: SimCore, all_: bool, f: Filters, node_id: str | None = None) -> list[Json]:
    images, _, _ = inventory(c, node_id)
    out = []
    for e in images:
        dangling = e["RepoTags"] == [NONE_TAG]
        if f.get("dangling") and (f["dangling"][0].lower() == "true") != dangling:
            continue
        if not labels_match(f, e.get("Labels") or {}):
            continue
        e = dict(e)
        e["Containers"] = -1  # only /system/df computes it
        e["SharedSize"] = -1
        out.append(e)
    return sorted(out, key=lambda e: -int(e["Created"]))


def volumes_json(c: SimCore, f: Filters, node_id: str | None = None) -> Json:
    _, containers, volumes = inventory(c, node_id)
    used = {m["Name"] for e in containers for m in e["Mounts"] if m.get("Type") == "volume"}
    out = []
    for v in volumes:
        if f.get("dangling") and (f["dangling"][0].lower() in ("true", "1")) == (v["Name"] in used):
            continue
        if f.get("name") and not any(n in v["Name"] for n in f["name"]):
            continue
        if not labels_match(f, v.get("Labels") or {}):
            continue
        v = dict(v)
        v.pop("UsageData", None)
        out.append(v)
    return {"Volumes": out, "Warnings": None}


# --------------------------------------------------------------------------- removal


def _find_container(c: SimCore, ref: str) -> Json:
    _, containers, _ = inventory(c)
    for e in containers:
        if ref == e["Id"] or ref in (e["Names"][0], e["Names"][0].lstrip("/")):
            return e
    hits = [e for e in containers if ref and str(e["Id"]).startswith(ref)]
    if len(hits) == 1:
        return hits[0]
    raise not_found(f"No such container: {ref}")


def _drop_container(c: SimCore, e: Json) -> None:
    cid = str(e["Id"])
    c.local.removed_containers.add(cid)
    attrs = {k: str(v) for k, v in (e.get("Labels") or {}).items()}
    attrs.update({"image": str(e["Image"]), "name": str(e["Names"][0]).lstrip("/")})
    c.emit("container", "destroy", cid, attrs, c.stamp(), scope="local", legacy=True,
           from_=str(e["Image"]))
    c.changes += 1


def delete_container(c: SimCore, ref: str) -> None:
    e = _find_container(c, ref)
    if e["State"] in ("running", "paused", "restarting"):
        raise SimError(409, f"You cannot remove a {e['State']} container {e['Id']}. Stop the "
                            "container before attempting removal or force remove")
    _drop_container(c, e)


def _prune_event(c: SimCore, type_: str, reclaimed: int) -> None:
    c.emit(type_, "prune", "", {"reclaimed": str(reclaimed)}, c.stamp(), scope="local")


def prune_containers(c: SimCore, f: Filters) -> Json:
    _check(f, ("until", "label", "label!"))
    _, containers, _ = inventory(c)
    deleted, space = [], 0
    for e in containers:
        if e["State"] in ("running", "paused", "restarting"):
            continue
        if not _prune_match(c, f, e.get("Labels"), int(e["Created"]) * NS):
            continue
        _drop_container(c, e)
        deleted.append(str(e["Id"]))
        space += int(e.get("SizeRw") or 0)
    _prune_event(c, "container", space)
    return {"ContainersDeleted": deleted or None, "SpaceReclaimed": space}


def _users(c: SimCore) -> dict[str, list[Json]]:
    _, containers, _ = inventory(c)
    out: dict[str, list[Json]] = {}
    for e in containers:
        out.setdefault(str(e["ImageID"]), []).append(e)
    return out


def _remove_image(c: SimCore, e: Json) -> list[Json]:
    """Every reference untagged, then the image deleted (no container uses it)."""
    records: list[Json] = []
    iid = str(e["Id"])
    for ref in [*e["RepoTags"], *e["RepoDigests"]]:
        if ref in (NONE_TAG, NONE_DIGEST):
            continue
        records.append({"Untagged": ref})
        c.emit("image", "untag", iid, {"name": iid}, c.stamp(), scope="local")
    records.append({"Deleted": iid})
    c.emit("image", "delete", iid, {"name": iid}, c.stamp(), scope="local")
    if iid in c.local.images:
        del c.local.images[iid]
    else:
        node = c.nodes[c.local_node_id]
        node.images -= {r for r in node.images if image_id(r) == iid}
    c.changes += 1
    return records


def _find_image(c: SimCore, ref: str) -> Json:
    images, _, _ = inventory(c)
    for e in images:
        if ref == e["Id"] or ref in e["RepoTags"] or ref in e["RepoDigests"]:
            return e
    if ":" not in ref.rsplit("/", 1)[-1] and "@" not in ref:
        for e in images:
            if ref + ":latest" in e["RepoTags"]:
                return e
    hits = [e for e in images if len(ref) >= 4 and
            (str(e["Id"]).startswith(ref) or str(e["Id"]).startswith("sha256:" + ref))]
    if len(hits) == 1:
        return hits[0]
    raise not_found(f"No such image: {ref}")


# Every simulated image is a shared base layer (the same for all: a compare shows it shared)
# and one layer of its own; history lists them newest first, like the engine.
SIM_BASE_LAYER = "sha256:" + hashlib.sha256(b"sim-base-layer").hexdigest()
SIM_BASE_SIZE = 1_984_260  # busybox's, as the lab measured it


def _split_layers(e: Json) -> tuple[int, int]:
    size = int(e["Size"])
    base = min(SIM_BASE_SIZE, size)
    return base, size - base


def image_inspect(c: SimCore, ref: str) -> Json:
    """``GET /images/{name}/json``: the fields the images view reads, in the engine's shapes."""
    e = _find_image(c, ref)
    own = "sha256:" + hashlib.sha256(("layer:" + str(e["Id"])).encode()).hexdigest()
    created = datetime.fromtimestamp(int(e["Created"]), UTC).strftime("%Y-%m-%dT%H:%M:%S.0Z")
    return {"Id": e["Id"], "RepoTags": [t for t in e["RepoTags"] if t != NONE_TAG],
            "RepoDigests": [d for d in (e.get("RepoDigests") or []) if d != NONE_DIGEST],
            "Parent": "", "Comment": "", "Created": created, "Size": e["Size"],
            "VirtualSize": e["Size"], "Os": "linux", "Architecture": "amd64",
            "RootFS": {"Type": "layers", "Layers": [SIM_BASE_LAYER, own]},
            "Config": {"Labels": e.get("Labels")}}


def image_history(c: SimCore, ref: str) -> list[Json]:
    """``GET /images/{name}/history``: its own step, then the base (``<missing>``: not local)."""
    e = _find_image(c, ref)
    base, own = _split_layers(e)
    created = int(e["Created"])
    tags = [t for t in e["RepoTags"] if t != NONE_TAG]
    return [
        {"Comment": "", "Created": created, "CreatedBy": "COPY /app /app # buildkit",
         "Id": e["Id"], "Size": own, "Tags": tags or None},
        {"Comment": "", "Created": created - 86400 * 30,
         "CreatedBy": '/bin/sh -c #(nop) ADD file:sim-rootfs.tar in / ', "Id": "<missing>",
         "Size": base, "Tags": None},
    ]


def delete_image(c: SimCore, ref: str) -> list[Json]:
    """``DELETE /images/{name}``: a tag with other references left is only untagged; the last
    reference deletes the image. Refused (409) while any container uses the image, even with
    ``force``: the simulator never removes an image a task container uses."""
    e = _find_image(c, ref)
    users = _users(c).get(str(e["Id"]), [])
    if users:
        kind = "running" if users[0]["State"] == "running" else "stopped"
        raise SimError(409, f"conflict: unable to delete {str(e['Id'])[7:19]} (cannot be forced)"
                            f" - image is being used by {kind} container {users[0]['Id'][:12]}")
    tags = [t for t in e["RepoTags"] if t != NONE_TAG]
    if ref in tags and len(tags) > 1:
        c.emit("image", "untag", str(e["Id"]), {"name": str(e["Id"])}, c.stamp(), scope="local")
        img = c.local.images.get(str(e["Id"]))
        if img is not None:
            img.repo_tags.remove(ref)
        return [{"Untagged": ref}]
    return _remove_image(c, e)


def prune_images(c: SimCore, f: Filters) -> Json:
    _check(f, ("dangling", "until", "label", "label!"))
    dangling_only = True
    if f.get("dangling"):
        dangling_only = f["dangling"][0].lower() not in ("false", "0")
    images, _, _ = inventory(c)
    users = _users(c)
    records: list[Json] = []
    space = 0
    for e in sorted(images, key=lambda e: str(e["Id"])):
        if users.get(str(e["Id"])):
            continue
        if dangling_only and e["RepoTags"] != [NONE_TAG]:
            continue
        if not _prune_match(c, f, e.get("Labels"), int(e["Created"]) * NS):
            continue
        records += _remove_image(c, e)
        space += int(e["Size"]) - max(int(e.get("SharedSize") or 0), 0)
    _prune_event(c, "image", space)
    return {"ImagesDeleted": records or None, "SpaceReclaimed": space}


def prune_volumes(c: SimCore, f: Filters) -> Json:
    _check(f, ("label", "label!"))
    _, containers, volumes = inventory(c)
    used = {m["Name"] for e in containers for m in e["Mounts"] if m.get("Type") == "volume"}
    deleted, space = [], 0
    for v in volumes:
        name = str(v["Name"])
        if name in used or not _prune_match(c, {k: f[k] for k in f}, v.get("Labels"), 0):
            continue
        c.local.removed_volumes.add(name)
        c.emit("volume", "destroy", name, {"driver": "local"}, c.stamp(), scope="local")
        deleted.append(name)
        space += int((v.get("UsageData") or {}).get("Size") or 0)
    if deleted:
        c.changes += 1
    _prune_event(c, "volume", space)
    return {"VolumesDeleted": deleted or None, "SpaceReclaimed": space}


def prune_networks(c: SimCore, f: Filters) -> Json:
    """Local networks here are all predefined or swarm-owned (never pruned); unused swarm
    networks other than ``ingress`` are removed as a manager's prune does."""
    _check(f, ("until", "label", "label!"))
    used: set[str] = set()
    for svc in c.services.values():
        used |= {n.meta.id for n in c.networks_of(svc.spec)}
    deleted = []
    for net_id, net in sorted(c.networks.items(), key=lambda kv: kv[1].name):
        if net.name == "ingress" or net_id in used:
            continue
        if not _prune_match(c, f, dict(net.labels), net.meta.created_ns):
            continue
        del c.networks[net_id]
        c.emit("network", "remove", net_id, {"name": net.name}, c.stamp())
        deleted.append(net.name)
        c.changes += 1
    _prune_event(c, "network", 0)
    return {"NetworksDeleted": deleted or None}


def prune_build_cache(c: SimCore, f: Filters) -> Json:
    """No build cache on the leader (df reports ``BuildCache: null``): nothing to delete."""
    _prune_event(c, "builder", 0)
    return {"CachesDeleted": None, "SpaceReclaimed": 0}
