"""Project-wide response headers that Django's own middleware does not set."""

from django.http import HttpRequest, HttpResponseBase

from care.api.errors import outage_json
from care.common.outages import outage_kind, outage_noticed, outage_page, outage_request_done

NO_STORE = "no-store, private"
# Browser features no page of the site uses, refused to every origin (the site's own too).
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


class PermissionsPolicyMiddleware:
    """`Permissions-Policy` on every response (static files too: it sits before WhiteNoise)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class PrivateNoStoreMiddleware:
    """`Cache-Control: no-store, private` on every response that may carry patient data.

    That is every response to a signed-in user and every `/api/` response (a bearer token is
    checked inside the API view, so the request may look anonymous here). A Cache-Control
    that a view set itself (`never_cache`, the exports' own) is left as it is.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        user = getattr(request, "user", None)
        if request.path.startswith("/api/") or (user is not None and user.is_authenticated):
            response["Cache-Control"] = NO_STORE
        return response


def outage_response(request: HttpRequest, exc: BaseException | None) -> HttpResponseBase | None:
    """The 503 for an unreachable database or Redis (the API's body under /api/), or None."""
    kind = outage_kind(exc)
    if kind is None or exc is None:  # no error is no outage (outage_kind gives None)
        return None
    outage_noticed(kind, exc)
    return outage_json() if request.path.startswith("/api/") else outage_page(request)


class OutageMiddleware:
    """An outage met in a view is a 503, not a 500 with a traceback; a response that got
    through may end an outage on record (care/common/outages.py). Outages met in other middleware
    (the session, the user) reach Django's 500 handler, which answers the same."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        outage_request_done(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        return outage_response(request, exception)
