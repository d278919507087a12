"""swarmtui: a live terminal dashboard for Docker Swarm."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("swarmtui")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
