"""The leader's one inventory: its task containers (minus removed ones), the images it
pulled, the volumes those containers mount, plus the extras in ``SimCore.local`` (leftover
exited containers, a dangling image, an anonymous volume), in the ``/system/df`` shapes.

``/system/df`` (:func:`df_json`), ``/info`` and the local list and prune endpoints
(:mod:`swarmtui.sim.local`) all read it, so a prune shows in df afterwards. Computed here
from the simulator's own objects, never with :mod:`swarmtui.model` (the code it checks).
"""

from __future__ import annotations

import hashlib
from typing import Any

from swarmtui.sim.core import SimCore
from swarmtui.sim.loggen import profile_for
from swarmtui.sim.objects import SimTask
from swarmtui.sim.util import NS, Json, human_duration, rfc3339


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def image_id(ref: str) -> str:
    return "sha256:" + _sha("image:" + ref.split("@", 1)[0])


def local_tasks(c: SimCore, node_id: str | None = None) -> list[SimTask]:
    """Tasks of the leader (or of ``node_id``) whose container exists (not removed by a
    prune or delete)."""
    node_id = c.local_node_id if node_id is None else node_id
    gone = c.local.removed_containers
    return [t for t in c.tasks.values()
            if t.node_id == node_id and t.container_id and t.container_id not in gone]


def container_state(t: SimTask) -> str:
    if t.state in ("running", "starting"):
        return "running"
    if t.state == "ready":
        return "created"
    return "exited"


# --------------------------------------------------------------------------- df


def _command(t: SimTask) -> str:
    cs: Any = t.spec.get("ContainerSpec", {})
    parts = [str(x) for x in (cs.get("Command") or []) + (cs.get("Args") or [])]
    if not parts:
        return t.profile.command
    return " ".join(p if " " not in p and "'" not in p else "'" + p.replace("'", "'\\''") + "'"
                    for p in parts)


def _volume_mounts(t: SimTask) -> list[Json]:
    mounts = t.spec.get("ContainerSpec", {}).get("Mounts") or []
    return [m for m in mounts if isinstance(m, dict) and m.get("Type", "volume") == "volume"
            and m.get("Source")]


def df_json(c: SimCore, node_id: str | None = None) -> Json:
    images, containers, vols = inventory(c, node_id)
    layers = sum(int(i["Size"]) for i in images)
    return {"LayersSize": layers, "Images": images, "Containers": containers, "Volumes": vols,
            "BuildCache": None, "BuilderSize": 0}


def inventory(c: SimCore, node_id: str | None = None
              ) -> tuple[list[Json], list[Json], list[Json]]:
    """The leader's images, containers and volumes (``/system/df`` shapes): the one inventory
    behind df, ``/info`` and the local list/prune endpoints (:mod:`swarmtui.sim.local`).
    With ``node_id``, another node's, as a node probe asks its own engine (the leftovers of
    ``SimCore.local`` are the leader's only)."""
    leader = node_id is None or node_id == c.local_node_id
    node_id = c.local_node_id if node_id is None else node_id
    node = c.nodes.get(node_id)
    local = local_tasks(c, node_id)
    extra = container_entries(c) if leader else []
    by_image: dict[str, list[SimTask]] = {}
    for t in local:
        by_image.setdefault(str(t.spec.get("ContainerSpec", {}).get("Image", "")), []).append(t)
    extra_users: dict[str, int] = {}
    for e in extra:
        extra_users[str(e["Image"])] = extra_users.get(str(e["Image"]), 0) + 1
    refs = sorted(set(node.images if node else ()) | set(by_image) | set(extra_users))
    images = []
    for ref in refs:
        users = by_image.get(ref, [])
        size = users[0].profile.image_size if users else _image_size(c, ref)
        repo = ref.split("@", 1)[0]
        name = repo.rsplit(":", 1)[0] if ":" in repo.rsplit("/", 1)[-1] else repo
        images.append({
            "Containers": len(users) + extra_users.get(ref, 0),
            "Created": (c.start_ns // NS) - 86400 * (3 + int(_sha(ref)[:4], 16) % 60),
            "Id": image_id(ref),
            "Labels": None,
            "ParentId": "",
            "RepoDigests": [f"{name}@sha256:{_sha('digest:' + repo)}"],
            "RepoTags": [repo],
            "SharedSize": 0,
            "Size": size,
            "VirtualSize": size,
        })
    containers = []
    volumes: dict[str, tuple[Json, list[SimTask]]] = {}
    for t in local:
        image = str(t.spec.get("ContainerSpec", {}).get("Image", ""))
        labels: dict[str, str] = dict(t.spec.get("ContainerSpec", {}).get("Labels") or {})
        labels.update({
            "com.docker.swarm.node.id": t.node_id,
            "com.docker.swarm.service.id": t.service_id,
            "com.docker.swarm.service.name": t.service_name,
            "com.docker.swarm.task": "",
            "com.docker.swarm.task.id": t.id,
            "com.docker.swarm.task.name": t.name,
        })
        state = container_state(t)
        if state == "running":
            status = "Up " + human_duration(c.now_ns - (t.running_ns or t.status_ns))
        elif state == "created":
            status = "Created"
        else:
            ended = t.ended_ns or t.status_ns
            status = f"Exited ({t.exit_code or 0}) {human_duration(c.now_ns - ended)} ago"
        mounts = []
        for m in _volume_mounts(t):
            vol = str(m["Source"])
            volumes.setdefault(vol, (m, []))[1].append(t)
            mounts.append({"Type": "volume", "Name": vol,
                           "Source": f"/var/lib/docker/volumes/{vol}/_data",
                           "Destination": m.get("Target", ""), "Driver": "local", "Mode": "z",
                           "RW": not m.get("ReadOnly", False), "Propagation": ""})
        entry: Json = {
            "Id": t.container_id,
            "Names": ["/" + t.name],
            "Image": image,
            "ImageID": image_id(image),
            "Command": _command(t),
            "Created": t.meta.created_ns // NS,
            "Ports": [],
        }
        if t.profile.size_rw:
            entry["SizeRw"] = t.profile.size_rw
        entry["SizeRootFs"] = t.profile.image_size + t.profile.size_rw
        entry["Labels"] = dict(sorted(labels.items()))
        entry["State"] = state
        entry["Status"] = status
        entry["HostConfig"] = {"NetworkMode": "default"}
        entry["NetworkSettings"] = {"Networks": _container_networks(c, t)}
        entry["Mounts"] = mounts
        containers.append(entry)
    containers += extra
    vols = []
    for name, (_, users) in sorted(volumes.items()):
        stack: Any = users[0].spec.get("ContainerSpec", {}).get("Labels") or {}
        ns = stack.get("com.docker.stack.namespace") if isinstance(stack, dict) else None
        vols.append({
            "CreatedAt": rfc3339(min(t.meta.created_ns for t in users) // NS * NS),
            "Driver": "local",
            "Labels": {"com.docker.stack.namespace": ns} if ns else None,
            "Mountpoint": f"/var/lib/docker/volumes/{name}/_data",
            "Name": name,
            "Options": None,
            "Scope": "local",
            "UsageData": {
                "RefCount": sum(1 for t in users if container_state(t) == "running"),
                "Size": 48_000_000 + int(_sha(name)[:6], 16) % 200_000_000,
            },
        })
    if leader:
        images += image_entries(c)
        vols += volume_entries(c)
    return images, containers, sorted(vols, key=lambda v: str(v["Name"]))


def _image_size(c: SimCore, ref: str) -> int:
    return profile_for(ref).image_size


def _container_networks(c: SimCore, t: SimTask) -> Json:
    out: Json = {}
    nets = t.networks
    if not nets:
        n = 2 + int(t.container_id[:4], 16) % 200
        out["bridge"] = _endpoint(c.local_networks["bridge"], f"172.17.0.{n}", 16, "172.17.0.1",
                                  None, t.container_id)
        return out
    for net, addr in nets:
        ip = addr.split("/", 1)[0]
        out[net.name] = _endpoint(net.meta.id, ip, 24, "", {"IPv4Address": ip}, t.container_id)
    return out


def _endpoint(net_id: str, ip: str, prefix: int, gateway: str, ipam: Json | None,
              container_id: str) -> Json:
    octets = [int(x) for x in ip.split(".")]
    return {
        "IPAMConfig": ipam,
        "Links": None,
        "Aliases": None,
        "NetworkID": net_id,
        "EndpointID": _sha(f"ep:{container_id}:{net_id}"),
        "Gateway": gateway,
        "IPAddress": ip,
        "IPPrefixLen": prefix,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "MacAddress": "02:42:" + ":".join(f"{o:02x}" for o in octets),
        "DriverOpts": None,
    }



def container_entries(c: SimCore) -> list[Json]:
    """Entries of :attr:`LocalStore.containers` in the list shape."""
    out = []
    for lc in c.local.containers.values():
        if lc.id in c.local.removed_containers:
            continue
        ago = human_duration(c.now_ns - lc.ended_ns)
        entry: Json = {
            "Id": lc.id, "Names": ["/" + lc.name], "Image": lc.image,
            "ImageID": image_id(lc.image), "Command": lc.command,
            "Created": lc.created_ns // NS, "Ports": [],
        }
        if lc.size_rw:
            entry["SizeRw"] = lc.size_rw
        entry["SizeRootFs"] = lc.size_rw + _image_size(c, lc.image)
        entry["Labels"] = dict(sorted(lc.labels.items()))
        entry["State"] = "exited"
        entry["Status"] = f"Exited ({lc.exit_code}) {ago} ago"
        entry["HostConfig"] = {"NetworkMode": "default"}
        entry["NetworkSettings"] = {"Networks": {}}
        entry["Mounts"] = []
        out.append(entry)
    return out


def image_entries(c: SimCore) -> list[Json]:
    return [{
        "Containers": 0, "Created": im.created_s, "Id": im.id, "Labels": im.labels,
        "ParentId": "", "RepoDigests": list(im.repo_digests), "RepoTags": list(im.repo_tags),
        "SharedSize": 0, "Size": im.size, "VirtualSize": im.size,
    } for im in c.local.images.values()]


def volume_entries(c: SimCore) -> list[Json]:
    return [{
        "CreatedAt": rfc3339(v.created_ns // NS * NS), "Driver": "local", "Labels": v.labels,
        "Mountpoint": f"/var/lib/docker/volumes/{v.name}/_data", "Name": v.name,
        "Options": None, "Scope": "local", "UsageData": {"RefCount": 0, "Size": v.size},
    } for v in c.local.volumes.values() if v.name not in c.local.removed_volumes]
