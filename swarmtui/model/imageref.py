"""Image references as docker reads them: the subset of distribution/reference
(``ParseNormalizedNamed``, ``FamiliarName``, ``TagNameOnly``) that the CLI and the daemon use.

Pure, stdlib only; imports nothing from swarmtui. Used by the disk model to match images to
the services that need them and to print ``REPOSITORY``/``TAG``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Final

# --------------------------------------------------------------------------------------------
# Image references (distribution/reference, the subset the CLI and daemon use)
# --------------------------------------------------------------------------------------------

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_REFERENCE_RE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)
HEX64 = re.compile(r"^[a-f0-9]{64}$")
HEX_ID = re.compile(r"^(?:sha256:)?([a-f0-9]{12,64})$")
DEFAULT_DOMAIN: Final = "docker.io"


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A parsed, normalised image reference (``docker.io/library/busybox:lab``)."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """Normalised repository name, e.g. ``docker.io/library/busybox``."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        """The short name the CLI shows: ``busybox``, ``team/web``, ``reg:5000/team/web``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        path = self.path
        if path.startswith("library/") and "/" not in path[len("library/") :]:
            return path[len("library/") :]
        return path

    def _with_tag_and_digest(self, name: str) -> str:
        tag = f":{self.tag}" if self.tag is not None else ""
        digest = f"@{self.digest}" if self.digest is not None else ""
        return name + tag + digest

    def __str__(self) -> str:
        """The normalised string (what moby's reference store sorts by)."""
        return self._with_tag_and_digest(self.name)

    @property
    def familiar(self) -> str:
        """``FamiliarString``: ``busybox:lab``, ``alpine@sha256:…``."""
        return self._with_tag_and_digest(self.familiar_name)

    def tag_name_only(self) -> ImageRef:
        """``reference.TagNameOnly``: add ``:latest`` when there is neither tag nor digest."""
        if self.tag is None and self.digest is None:
            return replace(self, tag="latest")
        return self


def parse_image_ref(value: str) -> ImageRef | None:
    """``reference.ParseNormalizedNamed``; None where Go returns an error.

    Errors: 64-hex strings (image IDs), upper-case repository paths, anything not matching the
    reference grammar, names longer than 255 characters.
    """
    s = value.strip()
    if not s or HEX64.match(s):
        return None
    slash = s.find("/")
    first = s[:slash] if slash >= 0 else ""
    if slash == -1 or (
        not any(ch in first for ch in ".:") and first != "localhost" and first.lower() == first
    ):
        domain, remainder = DEFAULT_DOMAIN, s
    else:
        domain, remainder = first, s[slash + 1 :]
    if domain == "index.docker.io":
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = "library/" + remainder
    colon = remainder.find(":")
    remote = remainder[:colon] if colon >= 0 else remainder
    if "@" in remote:
        remote = remote[: remote.find("@")]
    if remote.lower() != remote:
        return None
    m = _REFERENCE_RE.match(f"{domain}/{remainder}")
    if m is None or len(m.group("name")) > 255:
        return None
    name = m.group("name")
    return ImageRef(
        domain=name[: name.find("/")],
        path=name[name.find("/") + 1 :],
        tag=m.group("tag"),
        digest=m.group("digest"),
    )


def normalize_image_ref(value: str) -> str:
    """Normalised string of a reference (``busybox`` -> ``docker.io/library/busybox:latest``);
    the input unchanged when it does not parse."""
    ref = parse_image_ref(value)
    return str(ref.tag_name_only()) if ref is not None else value


# Digest lengths go-digest checks for the algorithms it knows (others: the grammar's 32+ hex).
_DIGEST_HEX_LENGTHS: Final = {"sha256": 64, "sha384": 96, "sha512": 128}
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")


def image_ref_problem(value: str) -> str | None:
    """Why ``value`` is not an image reference the engine accepts, in one line (None: it is).

    The grammar is distribution/reference's (as :func:`parse_image_ref`), plus go-digest's
    length check of known digest algorithms; the reasons name the part that is wrong."""
    s = value.strip()
    if not s:
        return "invalid image reference: it is empty"
    bad = f"invalid image reference {s!r}"
    if any(ch.isspace() for ch in s):
        return f"{bad}: it contains a space"
    if HEX64.match(s):
        return f"{bad}: a 64-hex string is an image ID, not a repository name"
    rest, _, digest = s.partition("@")
    if digest:
        algo, sep, hexpart = digest.partition(":")
        want = _DIGEST_HEX_LENGTHS.get(algo)
        if not sep or not re.fullmatch(r"[0-9a-fA-F]{32,}", hexpart) or (
            want is not None and len(hexpart) != want
        ):
            need = f"{want} hex digits" if want else "at least 32 hex digits"
            return f"{bad}: the digest must be algorithm:hex ({algo or 'sha256'} needs {need})"
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    name, tag = (rest[:colon], rest[colon + 1:]) if colon > slash else (rest, None)
    if tag is not None and not _TAG_RE.match(tag):
        return (f"{bad}: the tag must be 1-128 letters, digits, '_', '.' or '-', "
                "not starting with '.' or '-'")
    if parse_image_ref(s) is None:
        path = name.split("/", 1)[1] if "/" in name and _looks_like_domain(name) else name
        if path.lower() != path:
            return f"{bad}: the repository name must be lowercase"
        if len(name) > 255:
            return f"{bad}: the repository name is longer than 255 characters"
        return f"{bad}: not [domain[:port]/]path[:tag][@digest]"
    return None


def _looks_like_domain(name: str) -> bool:
    first = name.split("/", 1)[0]
    return any(ch in first for ch in ".:") or first == "localhost" or first.lower() != first
