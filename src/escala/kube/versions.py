"""The Kubernetes versions escala knows how to install, in one place.

One line per supported minor with the newest patch release known when this table was
last updated; `upgrade cluster` proposes from it and `create cluster` may default to
its last entry. Update it when a new patch or minor is published (and tested).
"""

import re

from escala.errors import UsageError

# minor -> latest known patch release
SUPPORTED: dict[str, str] = {
    "1.29": "1.29.15",
    "1.30": "1.30.14",
    "1.31": "1.31.13",
    "1.32": "1.32.9",
    "1.33": "1.33.5",
}

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


def parse_version(text: str, field: str = "kubernetesVersion") -> tuple[int, int, int]:
    """(major, minor, patch) of `1.31.2` or `v1.31.2`; anything else is a usage error."""
    match = _VERSION.match(text.strip())
    if not match:
        raise UsageError(f"{field} {text!r}: not a Kubernetes version; write e.g. 1.31.2")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def minor_of(version: str) -> str:
    major, minor, _ = parse_version(version)
    return f"{major}.{minor}"


def latest() -> str:
    """The newest version escala supports (a sensible default for new clusters)."""
    return SUPPORTED[max(SUPPORTED, key=lambda m: parse_version(m + ".0"))]
