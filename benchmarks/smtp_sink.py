"""A local SMTP sink for the sending phase (benchmarks/sending.py), in a process of its own.

    python -m benchmarks.smtp_sink

aiosmtpd on 127.0.0.1 and a free port, which it prints as its first line. It accepts every
e-mail and counts e-mails, bytes and connections (each client says EHLO once). A line "stats"
on its standard input prints "e-mails bytes connections" so far; end of input stops it.

A process of its own, so that the sink's Python does not share the sender's interpreter lock:
the sender's figure and its floor (a bare smtplib loop) are fed to the same sink alike.
"""

import socket
import sys

from aiosmtpd.controller import Controller


class Counting:
    def __init__(self) -> None:
        self.emails = 0
        self.bytes = 0
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.emails += 1
        self.bytes += len(envelope.original_content or b"")
        return "250 OK"


def main() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Counting()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "stats":
                print(handler.emails, handler.bytes, handler.connections, flush=True)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
