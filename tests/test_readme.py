"""The README's map of the code names every package there is, and only those."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_the_code_map_matches_the_packages():
    readme = (ROOT / "README.md").read_text()
    code_map = readme[readme.index("```\nsrc/escala/\n") : readme.index("\ntests/ ")]
    mapped = {line.split("/")[0] for line in re.findall(r"^  (\S+/) ", code_map, re.M)}
    packages = {p.parent.name for p in (ROOT / "src" / "escala").glob("*/__init__.py")}
    assert mapped == packages, (
        f"README.md's map of the code is out of date: packages without a line: "
        f"{sorted(packages - mapped)}; lines for packages that are gone: "
        f"{sorted(mapped - packages)}"
    )
