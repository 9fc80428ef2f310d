"""A connection of its own to the test database, beside Django's: for a test that must see
what is committed, or hold a lock, as another process would."""

import psycopg
from django.db import connection


def other_connection(*, user: str | None = None, password: str | None = None, **options):
    """A psycopg connection to the test database (as the test's user unless `user`)."""
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        dbname=db["NAME"],
        user=user or db["USER"],
        password=(password if user else db["PASSWORD"]) or None,
        **options,
    )
