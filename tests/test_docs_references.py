"""The repository stands alone: every file its code, tests and docs name exists in it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    "care",
    "notifications",
    "tracker",
    "devtools",
    "tests",
    "benchmarks",
    "loadtests",
    "docs",
]
# A path the text names: docs/x.md, README.md, care/x.py, tests/..., and the like.
NAMED = re.compile(
    r"(?<![\w/.-])((?:docs|care|notifications|tracker|tests|benchmarks|loadtests|static|templates|docker|\.ci)/[\w./-]+\.(?:md|py|html|css|js|yml|yaml|conf|template|cfg|toml|json)|README\.md|CHANGELOG\.md)"
)
# Files outside the repository that must never be cited.
OUTSIDE = re.compile(
    r"DESIGN\.md|STYLE\.md|reference/clinical\.md|ecosystem-reliability|\.\./shared"
)


def texts():
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".md", ".html", ".js", ".yml", ".toml"} and path.is_file():
                yield path, path.read_text(errors="replace")
    yield ROOT / "README.md", (ROOT / "README.md").read_text()


def test_nothing_cites_a_file_outside_the_repository():
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path, text in texts()
        if path != Path(__file__).resolve()
        for match in OUTSIDE.finditer(text)
    ]
    assert offenders == []


def test_every_file_named_in_code_and_docs_exists():
    missing = set()
    for path, text in texts():
        if path == Path(__file__).resolve():
            continue
        for match in NAMED.finditer(text):
            name = match.group(1).rstrip(".")
            if "*" in name or "<" in name or "{" in name:
                continue
            # A template is named from a templates folder (the project's or an app's).
            folders = [ROOT, ROOT / "templates", *ROOT.glob("*/templates")]
            if not any((folder / name).exists() for folder in folders):
                missing.add(f"{path.relative_to(ROOT)} names {name}")
    assert sorted(missing) == []
