"""Project-wide response headers that Django's own middleware does not set."""

from django.http import HttpRequest, HttpResponseBase

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
