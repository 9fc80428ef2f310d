"""Enqueue a Celery task by its name.

Services never import tasks: the tasks modules (care/tasks.py, notifications/tasks.py) import
services to run them, so a service names the task it wants run here instead. The name is the
one its `@shared_task(name=...)` gives. Call it as `taskqueue.enqueue(...)` (through the
module), so the tests can record what would be published in one place (tests/conftest.py).
"""

from celery import current_app


def enqueue(name: str, *args: int | list[int], argsrepr: str | None = None) -> None:
    """Publish one message for the task `name` with `args` (ids only), to run now.

    No eta or countdown: when something is due lives in the database, never in a message
    waiting on the broker. `argsrepr` is what monitoring shows of the arguments (short for a
    long list of ids). Raises kombu's OperationalError (a BrokerError) when the broker cannot
    be reached: each caller says what then happens.
    """
    task = current_app.tasks.get(name)
    if task is None:
        # A worker imports every app's tasks module when it starts; a web process does so
        # here, the first time it enqueues (Celery's autodiscovery, tracker/celery.py).
        current_app.loader.import_default_modules()
        task = current_app.tasks[name]
    task.apply_async(args=args, argsrepr=argsrepr)
