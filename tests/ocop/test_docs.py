"""The repository stands alone: the rules live in docs/, and nothing cites files outside it.

No database: plain file checks.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

PAGES = (
    "regimes-and-levels.md",
    "scoring-and-caps.md",
    "councils.md",
    "deadlines.md",
    "documents.md",
)

#: Citations of files outside the repository (the domain notes the docs/ pages replace),
#: assembled from parts so that this file does not itself contain what it looks for.
SHARED = "shared"
FORBIDDEN = (f"../{SHARED}", f"/work/{SHARED}", "OCOP-" + "RULES")

#: Folders never scanned: tools, caches, generated or uploaded files (none of them tracked).
SKIP_DIRS = {
    ".venv", "venv", ".git", "media", "staticfiles", "node_modules", "__pycache__",
    ".pytest_cache", ".ruff_cache", ".mypy_cache", ".pgdata", "test-results", "build", "dist",
}
#: Text files scanned, by suffix or by name (compiled catalogs and fonts are binary: skipped).
TEXT_SUFFIXES = {
    ".py", ".html", ".md", ".yaml", ".yml", ".txt", ".toml", ".cfg", ".ini", ".sh",
    ".css", ".js", ".po", ".example",
}
TEXT_NAMES = {"Makefile", "Dockerfile"}


def text_files():
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs
                         if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            path = Path(folder) / name
            if path.suffix in TEXT_SUFFIXES or name in TEXT_NAMES:
                yield path


@pytest.mark.parametrize("page", ("README.md", *PAGES))
def test_docs_page_exists_and_is_not_empty(page):
    path = DOCS / page
    assert path.is_file(), f"docs/{page} is missing"
    assert path.read_text(encoding="utf-8").strip(), f"docs/{page} is empty"


@pytest.mark.parametrize("page", PAGES)
def test_docs_index_links_every_page(page):
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    assert f"]({page})" in index, f"docs/README.md does not link {page}"


def test_the_scan_sees_the_repository():
    scanned = {path.relative_to(ROOT).as_posix() for path in text_files()}
    assert {"README.md", "Makefile", "docs/README.md", "scoring/rules.py"} <= scanned
    assert "tests/ocop/test_docs.py" in scanned  # it names no outside path itself


def test_no_file_cites_paths_outside_the_repository():
    offending = []
    for path in text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            for needle in FORBIDDEN:
                if needle in line:
                    offending.append(f"{path.relative_to(ROOT)}:{number}: {needle}")
    assert not offending, (
        "cite the docs/ pages instead of files outside the repository:\n"
        + "\n".join(offending))
