"""`celery` whose pool children die (os._exit) when they send to FAULTS_POISON_ADDRESS.

A message that kills every worker process that takes it, as an out-of-memory kill or a crash
in C code would. Usage: python -m tests.faults.poison_worker -A tracker worker ...
"""

import os
import sys

from celery.__main__ import main
from django.core.mail import EmailMessage

POISON = os.environ["FAULTS_POISON_ADDRESS"]
_send = EmailMessage.send


def send(self, *args, **kwargs):
    if POISON in self.to:
        os._exit(1)
    return _send(self, *args, **kwargs)


EmailMessage.send = send

if __name__ == "__main__":
    sys.exit(main())
