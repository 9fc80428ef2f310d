"""The benchmark command: build the data sets once, measure, print the figures.

    ./dev bench                       # everything (a first run also builds the data: ~1 min)
    ./dev bench --quick               # small sizes, a minute or two: does it all work?
    ./dev bench --rebuild             # build the data sets again
    ./dev bench --million             # and the dispatch tick at 1,000,000 patients (its data
                                      # set: a few minutes more, once)

Each figure is compared with a floor measured in the same run on the same stack, because
absolute times on a shared machine drift; docs/benchmarks.md explains each row. Data sets
are PostgreSQL databases named tracker_bench_* (BENCH_DB_PREFIX) on BENCH_POSTGRES (default
postgres://postgres@127.0.0.1:5432), kept between runs and rebuilt when the code that
builds them changes; the broker and cache are BENCH_REDIS_URL (default
redis://127.0.0.1:6379/11). Results: var/benchmarks/results.json and results.md.
"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time

import psycopg

from benchmarks.common import ROOT
from benchmarks.report import report

BUILDERS = [
    "benchmarks/data.py",
    "devtools/management/commands/seed_demo.py",
    "devtools/demo.py",
    "devtools/bulk.py",
]
OUT = ROOT / "var" / "benchmarks"


def say(message: str) -> None:
    print(f"\033[1m==> {message}\033[0m", file=sys.stderr, flush=True)


def builder_digest() -> str:
    digest = hashlib.sha256()
    for name in BUILDERS:
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class Server:
    """The PostgreSQL server that holds the benchmark databases."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def admin(self):
        return psycopg.connect(f"{self.url}/postgres", autocommit=True)

    def comment(self, name: str) -> str | None:
        with self.admin() as conn:
            row = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [name],
            ).fetchone()
        return None if row is None else (row[0] or "")

    def create(self, name: str, *, template: str | None = None) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            extra = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{extra}')

    def mark(self, name: str, text: str) -> None:
        with self.admin() as conn:
            conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{text}'")

    def drop(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(module: str, *args: str, env: dict, database: str) -> None:
    command = [sys.executable, "-m", f"benchmarks.{module}", *args]
    subprocess.run(command, cwd=ROOT, env=env | {"DATABASE_URL": database}, check=True)


def phase(module: str, name: str, *args: str, env: dict, database: str) -> dict:
    out = OUT / f"{name}.json"
    out.unlink(missing_ok=True)
    run(module, str(out), *args, env=env, database=database)
    return json.loads(out.read_text())


def ensure(server: Server, name: str, spec: str, build_args: list[str], *, env, rebuild) -> str:
    """The database `name` built by `benchmarks.data BUILD_ARGS`, reused when up to date."""
    database = f"{server.url}/{name}"
    marker = f"benchmarks {spec} {builder_digest()} complete"
    if not rebuild and server.comment(name) == marker:
        say(f"{name}: reusing ({spec})")
        run_manage("migrate", "--no-input", "-v", "0", env=env, database=database)
        return database
    say(f"{name}: building {spec}")
    started = time.monotonic()
    server.create(name)
    run_manage("migrate", "--no-input", "-v", "0", env=env, database=database)
    run("data", *build_args, env=env, database=database)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    server.mark(name, marker)
    say(f"{name}: built in {time.monotonic() - started:.0f} s")
    return database


def run_manage(*args: str, env: dict, database: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env | {"DATABASE_URL": database},
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to try it out")
    parser.add_argument("--rebuild", action="store_true", help="build the data sets again")
    parser.add_argument("--repeats", type=int, default=None, help="runs per figure")
    parser.add_argument("--no-throughput", action="store_true", help="skip the gunicorn rounds")
    parser.add_argument(
        "--million", action="store_true", help="the dispatch tick at 1,000,000 patients too"
    )
    args = parser.parse_args()

    care_sizes, dispatch_sizes, days = ((20, 200), (1000, 10000), 60) if args.quick else (
        (50, 5000), (10_000, 100_000), 365)  # fmt: skip
    if args.million:
        dispatch_sizes = (*dispatch_sizes, 1_000_000)
    # The outcomes page also at ten times the larger clinic (issue 23: it must not grow with it).
    outcome_sizes = care_sizes if args.quick else (*care_sizes, 50_000)
    web_repeats = args.repeats or (5 if args.quick else 15)
    dispatch_repeats = args.repeats or (3 if args.quick else 5)
    server = Server(os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    prefix = os.environ.get("BENCH_DB_PREFIX", "tracker_bench")
    OUT.mkdir(parents=True, exist_ok=True)
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "DJANGO_SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
        "DJANGO_DEBUG": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "MFA_REQUIRED_FOR_STAFF": "false",
        "API_THROTTLE_USER": "1000000/min",
        "API_THROTTLE_ANON": "1000000/min",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"),
        # Nothing is mailed; with debug off a file or console mailer would be refused.
        "EMAIL_URL": "dummymail://",
        "MFA_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "PYTHONUNBUFFERED": "1",
        "STATIC_ROOT": str(OUT / "static"),  # production static files (hashed names)
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    results: dict = {"quick": args.quick, "days": days, "care": {}, "dispatch": {}}
    load_at_start = os.getloadavg()
    care_dbs = {}
    for patients in sorted({*care_sizes, *outcome_sizes}):
        name = f"{prefix}_care_{patients}_{days}"
        care_dbs[patients] = ensure(
            server,
            name,
            f"care {patients}x{days}",
            ["care", "--patients", str(patients), "--days", str(days)],
            env=env,
            rebuild=args.rebuild,
        )
    dispatch_dbs = {}
    for patients in dispatch_sizes:
        dispatch_dbs[patients] = ensure(
            server,
            f"{prefix}_dispatch_{patients}",
            f"dispatch {patients}",
            ["dispatch", "--patients", str(patients)],
            env=env,
            rebuild=args.rebuild,
        )
    for patients in care_sizes:
        database = care_dbs[patients]
        say(f"Pages and trends, {patients:,} patients")
        results["care"][patients] = phase(
            "web", f"web-{patients}", "--repeats", str(web_repeats), env=env, database=database
        )
    results["outcomes"] = {}
    for patients in outcome_sizes:
        say(f"Outcomes page, CSV and API, {patients:,} patients")
        results["outcomes"][patients] = phase(
            "outcomes",
            f"outcomes-{patients}",
            "--repeats",
            str(args.repeats or (3 if args.quick or patients > 5000 else 7)),
            env=env,
            database=care_dbs[patients],
        )
    largest = max(care_sizes)
    say(f"Whole-clinic CSV exports, {largest:,} patients")
    results["exports"] = phase(
        "exports",
        "exports",
        "--repeats",
        "1" if args.quick else "3",
        env=env,
        database=care_dbs[largest],
    )
    for patients, database in dispatch_dbs.items():
        say(f"Dispatch tick, {patients:,} patients")
        results["dispatch"][patients] = phase(
            "dispatch",
            f"dispatch-{patients}",
            "--repeats",
            str(dispatch_repeats),
            env=env,
            database=database,
        )
    smallest = min(dispatch_sizes)
    say(f"Sending e-mails to a local SMTP sink ({smallest:,}-patient dispatch set)")
    results["sending"] = phase(
        "sending",
        "sending",
        *(["--emails", "300", "--repeats", "1"] if args.quick else ["--emails", "2000"]),
        env=env,
        database=dispatch_dbs[smallest],
    )
    if not args.no_throughput:
        largest = max(care_sizes)
        copy = f"{prefix}_throughput"
        say(f"Check-in throughput through gunicorn (a copy of the {largest:,}-patient set)")
        server.create(copy, template=care_dbs[largest].rsplit("/", 1)[1])
        try:
            results["throughput"] = phase(
                "throughput",
                "throughput",
                *(["--seconds", "3", "--rounds", "2"] if args.quick else []),
                env=env,
                database=f"{server.url}/{copy}",
            )
        finally:
            server.drop(copy)
    results["machine"] = {
        "cores": os.cpu_count(),
        "load_at_start": load_at_start,
        "load": os.getloadavg(),
    }
    (OUT / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True))
    table = report(results)
    (OUT / "results.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
