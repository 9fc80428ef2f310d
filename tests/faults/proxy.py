"""nginx in front of the app, as docker-compose.yml runs it: Debian's binary with a config made
from the repo's one template (docker/proxy/nginx.conf.template), and clients that send their
request headers a few bytes a second (the slow-header attack)."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.faults.harness import ROOT, Process, free_port, wait_until

TEMPLATE = ROOT / "docker/proxy/nginx.conf.template"
# What the nginx image's envsubst fills in (NGINX_ENVSUBST_FILTER=^PROXY_ in compose).
TEMPLATE_VARIABLE = re.compile(r"\$\{(PROXY_[A-Z0-9_]*)\}|\$(PROXY_[A-Z0-9_]*)")


def render(template: str, values: dict[str, str]) -> str:
    """The template with its ${PROXY_*} names filled in, nginx's own $variables untouched."""
    return TEMPLATE_VARIABLE.sub(lambda m: values[m.group(1) or m.group(2)], template)


def nginx_binary() -> str:
    """Debian's nginx (package nginx-light); the tests fail under CI without it."""
    found = os.environ.get("FAULTS_NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).is_file():
        if os.environ.get("CI") == "true":
            pytest.fail("The proxy fault tests need nginx (apt-get install nginx-light)")
        pytest.skip("the proxy fault tests need nginx (apt-get install nginx-light)")
    return found


class Nginx:
    """nginx on a spare loopback port, in front of `upstream` (host:port)."""

    def __init__(self, upstream: str):
        self.binary = nginx_binary()
        self.dir = Path(tempfile.mkdtemp(prefix="tracker-proxy-"))
        self.dir.chmod(0o755)  # as root, its workers run as nobody and write temp files here
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        site = render(
            TEMPLATE.read_text(),
            {"PROXY_UPSTREAM": upstream, "PROXY_PORT": f"127.0.0.1:{self.port}"},
        )
        (self.dir / "default.conf").write_text(site)
        # The nginx image's own nginx.conf around it: main and events context, and the temp paths.
        d = self.dir
        (d / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n"
            "events { worker_connections 1024; }\n"
            f"http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n"
            f"  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n"
            f"  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n"
            f"  include {d}/default.conf;\n}}\n"
        )
        self.process: Process | None = None

    def _command(self, *extra: str) -> list[str]:
        return [self.binary, "-p", str(self.dir), "-e", str(self.dir / "error.log"),
                "-c", str(self.dir / "nginx.conf"), *extra]  # fmt: skip

    def start(self) -> "Nginx":
        test = subprocess.run(self._command("-t"), capture_output=True, text=True, timeout=30)
        assert test.returncode == 0, f"nginx -t refused the config:\n{test.stderr}"
        self.process = Process("nginx", self._command(), dict(os.environ), self.dir / "out.log")
        wait_until(self._listening, timeout=10, what="nginx to listen")
        return self

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class SlowHeaderClients:
    """`count` connections that each send a request line, then a header byte a second, never
    ending the headers; a connection the server cuts is opened again at once."""

    def __init__(self, port: int, count: int):
        self.port, self.count = port, count
        self.opened = 0  # connections made
        self.cut = 0  # connections the server closed
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(count)]
        self._lock = threading.Lock()

    def __enter__(self) -> "SlowHeaderClients":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            except OSError:
                time.sleep(0.1)
                continue
            self._count("opened")
            try:
                sock.sendall(b"GET /health/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                while not self._stop.wait(1):
                    sock.sendall(b"X")  # one byte of a header line that never ends
                    sock.settimeout(0.01)
                    try:
                        if sock.recv(1024) == b"":
                            raise ConnectionResetError  # closed by the server
                    except TimeoutError:
                        pass  # still open
                    sock.settimeout(2)
            except OSError:
                self._count("cut")
            finally:
                sock.close()
