"""One error body for every 4xx answer of the API.

    {"status": 400, "code": "invalid", "detail": "Some values are not valid; see errors.",
     "errors": {"mood": ["Ensure this value is less than or equal to 10."],
                "answers.item_9": ["Choose an answer."]}}

`code` is stable and meant for programs (`invalid`, `not_authenticated`, `authentication_failed`,
`permission_denied`, `not_found`, `method_not_allowed`, `unsupported_media_type`, `parse_error`,
`conflict`, `not_open` (a 409: the session does not take that answer now), `throttled`,
`unavailable` (a 503 with Retry-After: the database or Redis is unreachable, see
care/common/outages.py), ...); `detail` is a sentence for people; `errors` maps a
field (nested fields joined with dots) to its messages and is empty when no field is at fault.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from care.audit.services import audit_denied
from care.common.access import RecordNotFound
from care.common.errors import error_body
from care.common.outages import RETRY_AFTER_SECONDS, UNAVAILABLE_DETAIL, outage_kind, outage_noticed

INVALID_DETAIL = "Some values are not valid; see errors."


class Conflict(exceptions.APIException):
    """The request clashes with what is stored (a reused client_id, an alert already handled)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"

    def __init__(self, detail=None, *, errors: dict | None = None):
        super().__init__(detail)
        self.errors = errors or {}


def flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field.sub": [messages]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list) and any(isinstance(d, (dict, list)) for d in detail):
        out = {}
        for index, value in enumerate(detail):
            out.update(flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return out
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(m) for m in messages if m != ""]} if messages else {}


def outage_body() -> dict:
    return error_body(status_code=503, code="unavailable", detail=UNAVAILABLE_DETAIL)


def _outage_marked(response):
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response._has_been_logged = True  # the outage is logged once, not per request
    return response


def outage_json() -> JsonResponse:
    """The API's 503 for an outage met outside an API view (middleware, the 500 handler)."""
    return _outage_marked(JsonResponse(outage_body(), status=503))


def exception_handler(exc, context):
    kind = outage_kind(exc)
    if kind is not None:
        outage_noticed(kind, exc)
        set_rollback()
        return _outage_marked(Response(outage_body(), status=503))
    if isinstance(exc, RecordNotFound):
        audit_denied(context["request"], exc)
    # Django's own 404 and 403 as the API's (DRF converts them too, but only inside).
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: a 500, reported as such
    if isinstance(exc, exceptions.ValidationError):
        code, detail = "invalid", INVALID_DETAIL
        errors = {k: v for k, v in flatten(exc.detail).items() if v}
    else:
        code = exc.get_codes()
        if not isinstance(code, str):
            code = "error"
        detail = str(getattr(exc, "detail", "") or response.status_text)
        errors = getattr(exc, "errors", {})
    if isinstance(exc, exceptions.Throttled):
        detail = "Too many requests; wait before trying again."
        wait: float | None = exc.wait  # type: ignore[attr-defined]  # set in __init__, unstubbed
        if wait is not None:
            detail = f"Too many requests; try again in {int(wait) + 1} seconds."
    response.data = error_body(
        status_code=response.status_code, code=code, detail=detail, errors=errors
    )
    return response


# Django's own error handlers, for API paths: answers that never reached an API view
# (no such route, a request Django refused, a crash) keep the API's body.
DJANGO_ERRORS = {
    400: ("bad_request", "The request could not be read."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "No such endpoint."),
    500: ("server_error", "Something went wrong on our side; it has been logged."),
}


def django_error_json(status_code: int) -> JsonResponse:
    code, detail = DJANGO_ERRORS[status_code]
    body = error_body(status_code=status_code, code=code, detail=detail)
    return JsonResponse(body, status=status_code)


class ErrorSerializer(serializers.Serializer):
    """The error body, for the OpenAPI schema."""

    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. `invalid`.")
    detail = serializers.CharField(help_text="What went wrong, in a sentence.")
    errors = serializers.DictField(  # type: ignore[assignment]  # the field, not .errors
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field (nested fields joined with dots); empty if none.",
    )
