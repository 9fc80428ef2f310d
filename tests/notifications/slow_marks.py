"""A slow disk for the `sent` marks: each takes 0.3 s to commit (a trigger sleeps), so a
test sees whether the next e-mail waits for the previous one's mark."""

from contextlib import contextmanager

from django.db import connection


@contextmanager
def slow_sent_marks():
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_slow_mark() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$;"
            " CREATE TRIGGER test_slow_mark BEFORE UPDATE OF status ON notifications_delivery"
            " FOR EACH ROW WHEN (NEW.status = 'sent') EXECUTE FUNCTION test_slow_mark()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER test_slow_mark ON notifications_delivery;"
                " DROP FUNCTION test_slow_mark()"
            )
