"""What the lab benchmarks share: the lab's lock (no lab test runs meanwhile) and the docker
CLI against one node. Imported by the scripts beside it (their folder is on sys.path)."""

from __future__ import annotations

import contextlib
import fcntl
import subprocess
from collections.abc import Iterator


@contextlib.contextmanager
def lab_lock(path: str) -> Iterator[None]:
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def docker(host: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "-H", host, *args], check=True, capture_output=True,
                          text=True, timeout=120)
