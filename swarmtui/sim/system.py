"""Daemon-level documents of the simulated manager: /info, /version, /swarm, /system/df, /networks.

``/system/df`` is per daemon (brief §4.1): it describes only the node whose socket we serve
(the leader) — its task containers, the images it pulled and the volumes they mount.
"""

from __future__ import annotations

import hashlib
from typing import Any

from swarmtui.sim.core import SimCore
from swarmtui.sim.inventory import container_state, inventory, local_tasks
from swarmtui.sim.util import NS, Filters, Json, fuzzy_match, labels_match, rfc3339

ENGINE_VERSION = "20.10.24+dfsg1"
KERNEL = "6.1.0-28-amd64"


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


def _cluster_head(c: SimCore) -> Json:
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


def swarm_json(c: SimCore) -> Json:
    out = _cluster_head(c)
    out["JoinTokens"] = dict(c.join_tokens)
    return out


def version_json(engine_version: str = ENGINE_VERSION) -> Json:
    details = {
        "ApiVersion": "1.41", "Arch": "amd64", "BuildTime": "2026-05-07T21:09:36.000000000+00:00",
        "Experimental": "false", "GitCommit": "5d6db84", "GoVersion": "go1.19.8",
        "KernelVersion": KERNEL, "MinAPIVersion": "1.12", "Os": "linux",
    }
    return {
        "Platform": {"Name": ""},
        "Components": [
            {"Name": "Engine", "Version": engine_version, "Details": details},
            {"Name": "containerd", "Version": "1.6.20~ds1",
             "Details": {"GitCommit": "1.6.20~ds1-1+deb12u3"}},
            {"Name": "runc", "Version": "1.1.5+ds1",
             "Details": {"GitCommit": "1.1.5+ds1-1+deb12u1"}},
            {"Name": "docker-init", "Version": "0.19.0", "Details": {"GitCommit": ""}},
        ],
        "Version": engine_version,
        "ApiVersion": "1.41",
        "MinAPIVersion": "1.12",
        "GitCommit": "5d6db84",
        "GoVersion": "go1.19.8",
        "Os": "linux",
        "Arch": "amd64",
        "KernelVersion": KERNEL,
        "BuildTime": "2026-05-07T21:09:36.000000000+00:00",
    }


def info_json(c: SimCore, node_id: str | None = None) -> Json:
    """``/info`` of the leader, or of ``node_id``'s own engine (a node probe asks that)."""
    node_id = c.local_node_id if node_id is None else node_id
    node = c.nodes.get(node_id)
    local = local_tasks(c, node_id)
    running = sum(1 for t in local if container_state(t) == "running")
    images, containers, _ = inventory(c, node_id)
    managers = [n for n in c.nodes.values() if n.role == "manager"]
    is_manager = bool(node and node.role == "manager")
    swarm: Json = {
        "NodeID": node_id,
        "NodeAddr": node.addr if node else "",
        "LocalNodeState": "active" if node else "inactive",
        "ControlAvailable": is_manager,
        "Error": "",
        "RemoteManagers": [{"NodeID": n.id, "Addr": f"{n.addr}:2377"} for n in managers],
        "Nodes": len(c.nodes),
        "Managers": len(managers),
    }
    if is_manager:  # a worker's engine knows no cluster object (dockerd omits it)
        swarm["Cluster"] = _cluster_head(c)
    else:
        del swarm["Nodes"], swarm["Managers"]
    daemon_id = c.daemon_id if node_id == c.local_node_id else ":".join(
        hashlib.sha256(f"daemon:{node_id}".encode()).hexdigest()[i:i + 4].upper()
        for i in range(0, 48, 4))
    return {
        "ID": daemon_id,
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
        "ServerVersion": node.engine_version if node else ENGINE_VERSION,
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


# --------------------------------------------------------------------------- networks


def networks_json(c: SimCore, f: Filters) -> list[Json]:
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
