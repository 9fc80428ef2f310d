"""`celery` whose pool children die (os._exit) when they send to FAULTS_POISON_ADDRESS.

A message that kills every worker process that takes it, as an out-of-memory kill or a crash
in C code would. Usage: python -m tests.faults.poison_worker -A tracker worker ...
"""

import os
import sys

from celery.__main__ import main
from django.core.mail.backends import smtp

POISON = os.environ["FAULTS_POISON_ADDRESS"]
_send_messages = smtp.EmailBackend.send_messages


def send_messages(self, messages):
    if any(POISON in message.to for message in messages):
        os._exit(1)
    return _send_messages(self, messages)


smtp.EmailBackend.send_messages = send_messages

if __name__ == "__main__":
    sys.exit(main())
