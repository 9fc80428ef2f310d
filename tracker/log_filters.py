"""Logging filters that keep health data out of what libraries log."""

import logging

from django.db import Error as DatabaseError


class WithoutTemplateContext(logging.Filter):
    """Keep django.template's "Exception while resolving variable" line, drop its exception.

    Django attaches a VariableDoesNotExist whose text is the repr of the whole template
    context: the signed-in user's and the patient's names, records, flags such as
    `show_crisis`. The line itself names only the variable and the template.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


class WithoutDatabaseRows(logging.Filter):
    """Log a database error's first line only, not the detail lines that follow it.

    PostgreSQL explains a refused row in a DETAIL line such as "Failing row contains (...)",
    which lists every column of the row: a check-in's note, its answers, its flags. The
    error reaches the traceback and, in Celery's task failure lines, the message and its
    `data` extra too (as a repr).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or record.exc_info[1] is None:
            return True
        replacements = list(_withheld(record.exc_info[1]))
        if not replacements:
            return True

        def clean(text: str) -> str:
            for detailed, short in replacements:
                text = text.replace(detailed, short)
            return text

        record.exc_text = clean(logging.Formatter().formatException(record.exc_info))
        record.msg, record.args, record.exc_info = clean(record.getMessage()), None, None
        data = getattr(record, "data", None)
        if isinstance(data, dict):
            record.data = {k: clean(v) if isinstance(v, str) else v for k, v in data.items()}
        return True


def _withheld(exc: BaseException | None):
    """(text with detail, text without) for each database error in the exception's chain,
    as str() and as repr() show it. The driver's own exception (the cause) has the same text.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        message = str(exc)
        if isinstance(exc, DatabaseError) and "\n" in message:
            short = message.split("\n")[0] + " [detail withheld]"
            yield message, short
            yield repr(message)[1:-1], repr(short)[1:-1]
        exc = exc.__cause__ or exc.__context__
