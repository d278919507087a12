"""Daemon-level documents of the simulated manager: /info, /version, /swarm, /system/df, /networks.

``/system/df`` is per daemon (brief §4.1): it describes only the node whose socket we serve
(the leader) — its task containers, the images it pulled and the volumes they mount.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from swarmtui.model.disk import human_duration_ns
from swarmtui.sim.objects import SimTask
from swarmtui.sim.util import NS, Filters, Json, Rng, fuzzy_match, labels_match, rfc3339

if TYPE_CHECKING:
    from swarmtui.sim.cluster import SimCluster

ENGINE_VERSION = "20.10.24+dfsg1"
KERNEL = "6.1.0-28-amd64"


def fake_tls(rng: Rng) -> Json:
    body = rng.b64(330)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"
    return {
        "TrustRoot": pem,
        "CertIssuerSubject": "MBMxETAPBgNVBAMTCHN3YXJtLWNh",
        "CertIssuerPublicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + rng.b64(66)[:88],
    }




def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def image_id(ref: str) -> str:
    return "sha256:" + _sha("image:" + ref.split("@", 1)[0])


def _swarm_spec() -> Json:
    return {
        "Name": "default",
        "Labels": {},
        "Orchestration": {"TaskHistoryRetentionLimit": 5},
        "Raft": {"SnapshotInterval": 10000, "KeepOldSnapshots": 0,
                 "LogEntriesForSlowFollowers": 500, "ElectionTick": 10, "HeartbeatTick": 1},
        "Dispatcher": {"HeartbeatPeriod": 5000000000},
        "CAConfig": {"NodeCertExpiry": 7776000000000000},
        "TaskDefaults": {},
        "EncryptionConfig": {"AutoLockManagers": False},
    }


def _cluster_head(c: SimCluster) -> Json:
    out = c.swarm_meta.head()
    spec = _swarm_spec()
    spec["Orchestration"]["TaskHistoryRetentionLimit"] = c.history_limit
    out["Spec"] = spec
    out["TLSInfo"] = dict(c.tls)
    out["RootRotationInProgress"] = False
    out["DefaultAddrPool"] = ["10.0.0.0/8"]  # what `docker swarm init` sets by default
    out["SubnetSize"] = 24
    out["DataPathPort"] = 4789
    return out


def swarm_json(c: SimCluster) -> Json:
    out = _cluster_head(c)
    out["JoinTokens"] = dict(c.join_tokens)
    return out


def version_json() -> Json:
    details = {
        "ApiVersion": "1.41", "Arch": "amd64", "BuildTime": "2026-05-07T21:09:36.000000000+00:00",
        "Experimental": "false", "GitCommit": "5d6db84", "GoVersion": "go1.19.8",
        "KernelVersion": KERNEL, "MinAPIVersion": "1.12", "Os": "linux",
    }
    return {
        "Platform": {"Name": ""},
        "Components": [
            {"Name": "Engine", "Version": ENGINE_VERSION, "Details": details},
            {"Name": "containerd", "Version": "1.6.20~ds1",
             "Details": {"GitCommit": "1.6.20~ds1-1+deb12u3"}},
            {"Name": "runc", "Version": "1.1.5+ds1",
             "Details": {"GitCommit": "1.1.5+ds1-1+deb12u1"}},
            {"Name": "docker-init", "Version": "0.19.0", "Details": {"GitCommit": ""}},
        ],
        "Version": ENGINE_VERSION,
        "ApiVersion": "1.41",
        "MinAPIVersion": "1.12",
        "GitCommit": "5d6db84",
        "GoVersion": "go1.19.8",
        "Os": "linux",
        "Arch": "amd64",
        "KernelVersion": KERNEL,
        "BuildTime": "2026-05-07T21:09:36.000000000+00:00",
    }


def local_tasks(c: SimCluster) -> list[SimTask]:
    """Tasks of the leader whose container exists (not removed by a prune or delete)."""
    gone = c.local.removed_containers
    return [t for t in c.tasks.values()
            if t.node_id == c.local_node_id and t.container_id and t.container_id not in gone]


def _container_state(t: SimTask) -> str:
    if t.state in ("running", "starting"):
        return "running"
    if t.state == "ready":
        return "created"
    return "exited"


def info_json(c: SimCluster) -> Json:
    node = c.nodes.get(c.local_node_id)
    local = local_tasks(c)
    running = sum(1 for t in local if _container_state(t) == "running")
    images, containers, _ = df_parts(c)
    managers = [n for n in c.nodes.values() if n.role == "manager"]
    swarm: Json = {
        "NodeID": c.local_node_id,
        "NodeAddr": node.addr if node else "",
        "LocalNodeState": "active" if node else "inactive",
        "ControlAvailable": bool(node and node.role == "manager"),
        "Error": "",
        "RemoteManagers": [{"NodeID": n.id, "Addr": f"{n.addr}:2377"} for n in managers],
        "Nodes": len(c.nodes),
        "Managers": len(managers),
        "Cluster": _cluster_head(c),
    }
    return {
        "ID": c.daemon_id,
        "Containers": len(containers),
        "ContainersRunning": running,
        "ContainersPaused": 0,
        "ContainersStopped": len(containers) - running,
        "Images": len(images),
        "Driver": "overlay2",
        "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"],
                         ["Native Overlay Diff", "true"], ["userxattr", "false"]],
        "Plugins": {
            "Volume": ["local"],
            "Network": ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"],
            "Authorization": None,
            "Log": ["awslogs", "fluentd", "gcplogs", "gelf", "journald", "json-file", "local",
                    "logentries", "splunk", "syslog"],
        },
        "MemoryLimit": True, "SwapLimit": False, "KernelMemory": True, "KernelMemoryTCP": True,
        "CpuCfsPeriod": True, "CpuCfsQuota": True, "CPUShares": True, "CPUSet": True,
        "PidsLimit": True, "IPv4Forwarding": True, "BridgeNfIptables": True,
        "BridgeNfIp6tables": True, "Debug": False, "NFd": 38 + 3 * len(local),
        "OomKillDisable": True, "NGoroutines": 160 + 10 * len(local),
        "SystemTime": rfc3339(c.now_ns),
        "LoggingDriver": "json-file", "CgroupDriver": "systemd", "CgroupVersion": "2",
        "NEventsListener": len(c._event_listeners),
        "KernelVersion": KERNEL,
        "OperatingSystem": "Debian GNU/Linux 12 (bookworm)", "OSVersion": "12",
        "OSType": "linux", "Architecture": "x86_64",
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {
            "AllowNondistributableArtifactsCIDRs": [],
            "AllowNondistributableArtifactsHostnames": [],
            "InsecureRegistryCIDRs": ["127.0.0.0/8"],
            "IndexConfigs": {"docker.io": {"Name": "docker.io", "Mirrors": [], "Secure": True,
                                           "Official": True}},
            "Mirrors": [],
        },
        "NCPU": (node.nano_cpus // NS) if node else 0,
        "MemTotal": node.memory_bytes if node else 0,
        "GenericResources": None,
        "DockerRootDir": "/var/lib/docker",
        "HttpProxy": "", "HttpsProxy": "", "NoProxy": "",
        "Name": node.hostname if node else "",
        "Labels": [],
        "ExperimentalBuild": False,
        "ServerVersion": ENGINE_VERSION,
        "Runtimes": {"io.containerd.runc.v2": {"path": "runc"},
                     "io.containerd.runtime.v1.linux": {"path": "runc"}, "runc": {"path": "runc"}},
        "DefaultRuntime": "runc",
        "Swarm": swarm,
        "LiveRestoreEnabled": False,
        "Isolation": "",
        "InitBinary": "docker-init",
        "ContainerdCommit": {"ID": "1.6.20~ds1", "Expected": "1.6.20~ds1"},
        "RuncCommit": {"ID": "1.1.5+ds1", "Expected": "1.1.5+ds1"},
        "InitCommit": {"ID": "", "Expected": ""},
        "SecurityOptions": ["name=apparmor", "name=seccomp,profile=default", "name=cgroupns"],
        "Warnings": ["WARNING: No swap limit support"],
    }


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


def df_json(c: SimCluster) -> Json:
    images, containers, vols = df_parts(c)
    layers = sum(int(i["Size"]) for i in images)
    return {"LayersSize": layers, "Images": images, "Containers": containers, "Volumes": vols,
            "BuildCache": None, "BuilderSize": 0}


def df_parts(c: SimCluster) -> tuple[list[Json], list[Json], list[Json]]:
    """The leader's images, containers and volumes (``/system/df`` shapes): the one inventory
    behind df and the local list/prune endpoints (:mod:`swarmtui.sim.local`)."""
    from swarmtui.sim import local as simlocal

    node = c.nodes.get(c.local_node_id)
    local = local_tasks(c)
    extra = simlocal.container_entries(c)
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
        state = _container_state(t)
        if state == "running":
            status = "Up " + human_duration_ns(c.now_ns - (t.running_ns or t.status_ns))
        elif state == "created":
            status = "Created"
        else:
            ended = t.ended_ns or t.status_ns
            status = f"Exited ({t.exit_code or 0}) {human_duration_ns(c.now_ns - ended)} ago"
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
                "RefCount": sum(1 for t in users if _container_state(t) == "running"),
                "Size": 48_000_000 + int(_sha(name)[:6], 16) % 200_000_000,
            },
        })
    images += simlocal.image_entries(c)
    vols += simlocal.volume_entries(c)
    return images, containers, sorted(vols, key=lambda v: str(v["Name"]))


def _image_size(c: SimCluster, ref: str) -> int:
    from swarmtui.sim.loggen import profile_for

    return profile_for(ref).image_size


def _container_networks(c: SimCluster, t: SimTask) -> Json:
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


# --------------------------------------------------------------------------- networks


def networks_json(c: SimCluster, f: Filters) -> list[Json]:
    created = rfc3339(c.start_ns - 3 * 86400 * NS + 123_456_789)
    local = []
    subnets = {"bridge": ("172.17.0.0/16", "172.17.0.1"),
               "docker_gwbridge": ("172.18.0.0/16", "172.18.0.1")}
    for name, net_id in c.local_networks.items():
        driver = {"host": "host", "none": "null"}.get(name, "bridge")
        config = [{"Subnet": subnets[name][0], "Gateway": subnets[name][1]}] if name in subnets \
            else []
        options: Json = {}
        if name == "bridge":
            options = {"com.docker.network.bridge.default_bridge": "true",
                       "com.docker.network.bridge.enable_icc": "true",
                       "com.docker.network.bridge.enable_ip_masquerade": "true",
                       "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
                       "com.docker.network.bridge.name": "docker0",
                       "com.docker.network.driver.mtu": "1500"}
        elif name == "docker_gwbridge":
            options = {"com.docker.network.bridge.enable_icc": "false",
                       "com.docker.network.bridge.enable_ip_masquerade": "true",
                       "com.docker.network.bridge.name": "docker_gwbridge"}
        local.append({
            "Name": name, "Id": net_id, "Created": created, "Scope": "local", "Driver": driver,
            "EnableIPv6": False,
            "IPAM": {"Driver": "default", "Options": None, "Config": config},
            "Internal": False, "Attachable": False, "Ingress": False,
            "ConfigFrom": {"Network": ""}, "ConfigOnly": False, "Containers": {},
            "Options": options, "Labels": {},
        })
    nets = local + [n.resource_json() for n in c.networks.values()]
    out = []
    for net in sorted(nets, key=lambda n: str(n["Name"])):
        if not fuzzy_match(f, "id", str(net["Id"])) or not fuzzy_match(f, "name", str(net["Name"])):
            continue
        if f.get("driver") and net["Driver"] not in f["driver"]:
            continue
        if f.get("scope") and net["Scope"] not in f["scope"]:
            continue
        builtin = net["Name"] in ("bridge", "host", "none", "ingress")
        if f.get("type") and ("builtin" if builtin else "custom") not in f["type"]:
            continue
        labels: Any = net.get("Labels") or {}
        if labels_match(f, labels):
            out.append(net)
    return out
