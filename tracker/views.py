"""Project-level views: the health endpoint and the error handlers."""

import logging
import sys
from datetime import timedelta

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.utils import timezone
from django.views import defaults
from django.views.decorators.cache import never_cache

from care.api.errors import django_error_json
from notifications.models import Heartbeat
from tracker.celery import app as celery_app
from tracker.middleware import outage_response

logger = logging.getLogger(__name__)

# Beat records a heartbeat every minute; older than this means beat or the worker stalled.
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception as exc:
        logger.warning("Health check: database unavailable (%s)", type(exc).__name__)
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        return True
    except Exception as exc:
        logger.warning("Health check: broker unavailable (%s)", type(exc).__name__)
        return False


def _scheduler_state() -> str:
    try:
        beat = Heartbeat.objects.filter(name="beat").values_list("beat_at", flat=True).first()
    except Exception:
        return "unknown"
    if beat is None:
        return "unknown"
    return "ok" if timezone.now() - beat < HEARTBEAT_STALE_AFTER else "stale"


@login_not_required
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer, else 503; no details leaked.

    `scheduler` tells whether beat and a worker have run the heartbeat task lately;
    it is informative only, so a stalled worker does not take the web tier down.
    """
    database, broker = _database_ok(), _broker_ok()
    healthy = database and broker
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": "ok" if database else "unavailable",
        "broker": "ok" if broker else "unavailable",
        "scheduler": _scheduler_state() if database else "unknown",
    }
    return JsonResponse(body, status=200 if healthy else 503)


@login_not_required
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's, JSON)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


# Error pages: the API's JSON error body under /api/, the site's pages elsewhere.


def bad_request(request: HttpRequest, exception: Exception):
    if _is_api(request):
        return django_error_json(400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception):
    if _is_api(request):
        return django_error_json(403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception):
    if _is_api(request):
        return django_error_json(404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest):
    # Called while the exception is handled: an unreachable database or Redis is a 503.
    outage = outage_response(request, sys.exception())
    if outage is not None:
        return outage
    if _is_api(request):
        return django_error_json(500)
    return defaults.server_error(request)
