"""OpenAPI generation: the error responses every operation can give, and the token scheme."""

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiResponse

from care.api.errors import ErrorSerializer

ERRORS = {
    400: (
        "The request is not valid (bad JSON, an object giving a key twice, a bad value, an "
        "unknown filter value)."
    ),
    401: "Not signed in, or the token is unknown, expired or revoked.",
    403: "Signed in, but this is not for your role (or the CSRF check failed).",
    404: "No such record for you (records of other patients and clinics are never shown).",
    405: "This method is not allowed here.",
    406: "Only `application/json` responses are available.",
    415: "The request body must be `application/json`.",
    429: "Too many requests; the `Retry-After` header says when to try again.",
}
BODY_ERRORS = {415}
PUBLIC_ERRORS = {400, 404, 405, 406, 429}
CONFLICT = OpenApiResponse(
    ErrorSerializer, description="Conflicts with what is stored (see `detail` and `errors`)."
)


class AutoSchema(BaseAutoSchema):
    def get_summary(self):
        """A short title for each operation: an explicit one, else the first sentence of the
        view's docstring (or of its "GET: ..." / "POST: ..." part for this method)."""
        explicit = super().get_summary()
        if explicit:
            return explicit
        text = " ".join((self.get_description() or "").split())
        parts = re.split(r"\b(GET|POST|PUT|PATCH|DELETE): ", text)
        if len(parts) > 1:
            by_method = dict(zip(parts[1::2], parts[2::2], strict=True))
            text = by_method.get(self.method, text)
        sentence = re.split(r"(?<=[a-z)])[.;:] | \(", text, maxsplit=1)[0].strip(" .")
        return sentence[:1].upper() + sentence[1:] if sentence else None

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        public = not self.get_auth()
        has_body = self.method in ("POST", "PUT", "PATCH")
        for code, description in ERRORS.items():
            if str(code) in responses or (public and code not in PUBLIC_ERRORS):
                continue
            if code in BODY_ERRORS and not has_body:
                continue
            response = OpenApiResponse(ErrorSerializer, description=description)
            responses[str(code)] = self._get_response_for_code(response, str(code))
        return dict(sorted(responses.items()))


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "care.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from `POST /api/v1/auth/tokens/`, as `Bearer ktk_…`.",
        }
