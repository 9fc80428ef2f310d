"""The structure of the code (docs/architecture.md): what import-linter checks, shown to fail
when broken, and the rules it cannot say."""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("care", "notifications", "tracker", "devtools")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def python_files(*packages: str):
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def imports_of(path: Path):
    """(module, names) of every import statement in the file, absolute."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: a relative import"
            yield node.module, [alias.name for alias in node.names]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(cwd)},
    )


def test_the_import_contracts_hold():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


def test_a_contract_broken_on_purpose_fails_the_check(tmp_path):
    """A copy of the tree where the pure domain imports Django and care imports the
    notifications app: lint-imports fails and names both."""
    for name in (*PRODUCT, "pyproject.toml"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    scoring = tmp_path / "care" / "domain" / "scoring.py"
    scoring.write_text(scoring.read_text() + "\nimport django.db  # noqa\n")
    caseload = tmp_path / "care" / "caseload" / "selectors.py"
    caseload.write_text(caseload.read_text() + "\nfrom notifications.models import Delivery\n")

    done = lint_imports(tmp_path)

    assert done.returncode == 1
    assert "2 broken" in done.stdout
    assert "care.domain.scoring -> django" in done.stdout
    assert "care.caseload.selectors -> notifications.models" in done.stdout


def test_the_pure_domain_imports_only_the_standard_library():
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in python_files("care/domain")
        for module, _ in imports_of(path)
        if module.split(".")[0] not in sys.stdlib_module_names
        and not module.startswith("care.domain")
    ]
    assert offenders == []


def test_no_module_imports_another_modules_private_names():
    offenders = [
        f"{path.relative_to(ROOT)}: {name} from {module}"
        for path in python_files(*PRODUCT)
        for module, names in imports_of(path)
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert offenders == []


def test_the_product_starts_without_the_developer_tools(tmp_path):
    """The image leaves devtools/ out (.dockerignore): settings, URLs and checks still load."""
    for name in ("care", "notifications", "tracker", "templates", "static", "manage.py"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST", "DATABASE"))
    }
    env.update(
        PYTHONPATH=str(tmp_path),
        DJANGO_SETTINGS_MODULE="tracker.settings",
        DJANGO_SECRET_KEY="x-only-for-this-test-0123456789abcdef0123456789",
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
        EMAIL_URL="dummymail://",
        MFA_ENCRYPTION_KEYS="YnVpbGQtb25seS1ub3QtYS1zZWNyZXQtMDEyMzQ1Njc=",
    )
    done = subprocess.run(
        [sys.executable, "-P", "manage.py", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    listed = subprocess.run(
        [
            sys.executable,
            "-P",
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "import importlib.util; print(importlib.util.find_spec('devtools'), "
            "'devtools' in settings.INSTALLED_APPS)",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.stdout.split() == ["None", "False"], listed.stderr[-2000:]


def test_the_architecture_map_matches_the_tree():
    """Every package docs/architecture.md names exists, and every room is named there."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`((?:care|notifications)/[\w/]+)/`", text))
    assert named, "the map names no packages"
    assert sorted(p for p in named if not (ROOT / p / "__init__.py").is_file()) == []
    rooms = {
        f"{app}/{path.parent.name}"
        for app in ("care", "notifications")
        for path in (ROOT / app).glob("*/__init__.py")
        if path.parent.name not in {"migrations", "management", "templatetags"}
    }
    assert sorted(rooms - named) == []
