"""Outages answered as outages: the database or Redis unreachable is a 503 with Retry-After.

An unreachable dependency is not a bug: a traceback per request hides the one line that
matters and a 500 tells the mobile client not to retry. `outage_kind(exc)` tells such an
error from others (a deadlock or a missing table stays a 500); the middleware, the API's
exception handler and the 500 handler answer it with `outage_page` or the API's error body
(`care.api.errors.outage_json`), both marked logged so Django adds no line per request.
The first failure of an outage is logged once, without the error's text (it may hold a row);
repeats are counted, and the first success logs the outage as over.
"""

import logging
import threading
import time

import redis
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

RETRY_AFTER_SECONDS = 30
UNAVAILABLE_DETAIL = (
    f"The service is briefly unavailable; try again in {RETRY_AFTER_SECONDS} seconds."
)

# SQLSTATE classes of a lost or refused connection (08) and of a server shutting down (57P).
_OUTAGE_SQLSTATES = ("08", "57P")
_NAMES = {"database": "the database", "redis": "Redis"}

# How often, at most, a request that did not need Redis asks it whether it is back.
REDIS_PROBE_SECONDS = 5

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_state: dict[str, tuple[float, int]] = {}  # kind -> (monotonic start, requests answered 503)


def outage_kind(exc: BaseException | None) -> str | None:
    """Which dependency `exc` says is unreachable: "database", "redis", or None."""
    if isinstance(exc, InterfaceError):
        return "database"
    if isinstance(exc, OperationalError):
        return "database" if _connection_lost(exc) else None
    if isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
        return "redis"
    return None


def _connection_lost(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate.startswith(_OUTAGE_SQLSTATES)
    # No SQLSTATE: a connection that could not be opened, or one the server cut off (marked
    # broken or closed; asked without a query). On a working connection it is another error.
    raw = connections["default"].connection
    return raw is None or bool(getattr(raw, "broken", False) or getattr(raw, "closed", False))


def outage_noticed(kind: str, exc: BaseException) -> None:
    """Count a request answered 503; log the first of an outage (the error's kind only)."""
    with _lock:
        started, count = _state.get(kind, (None, 0))
        _state[kind] = (started or time.monotonic(), count + 1)
    if started is None:
        logger.warning(
            "Outage: %s is unreachable (%s); requests are answered 503 until it is back.",
            _NAMES[kind],
            type(exc).__name__,
        )


def outage_over(kind: str) -> None:
    """A request got through: log the outage of `kind` as over, if there was one."""
    if kind not in _state:  # the usual case, without the lock
        return
    with _lock:
        started, count = _state.pop(kind, (None, 0))
    if started is not None:
        logger.warning(
            "Outage over: %s answers again after %d s; %d requests were answered 503.",
            _NAMES[kind],
            round(time.monotonic() - started),
            count,
        )


def outage_request_done(response: HttpResponse) -> None:
    """After a response that was no outage: is an outage on record over?

    The database's is over when this request held a working connection (one that opened and
    met no error); Redis's when the cache answers a probe (at most every few seconds: most
    requests never use Redis, so their success says nothing about it).
    """
    if not _state or response.status_code >= 500:
        return
    database = connections["default"]
    if "database" in _state and database.connection is not None and not database.errors_occurred:
        outage_over("database")
    if "redis" in _state and time.monotonic() - _probed_at[0] >= REDIS_PROBE_SECONDS:
        _probed_at[0] = time.monotonic()
        try:
            cache.get("outage-probe")
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            return
        outage_over("redis")


_probed_at = [0.0]


def reset() -> None:
    with _lock:
        _state.clear()
        _probed_at[0] = 0.0


def outage_page(request: HttpRequest) -> HttpResponse:
    """The friendly 503 page: rendered without a request (no user, session or database)."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # The outage is logged once, not per request.
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django's private flag
    return response
