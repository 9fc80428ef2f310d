"""Bearer-token authentication of the API (kept apart from views: DRF imports it early)."""

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.request import Request

from care.accounts.tokens import api_token_authenticate
from care.models import User


def api_user(request: Request) -> User:
    """The signed-in user of an API request, typed as such.

    Every endpoint is behind IsAuthenticated (the default permission), so the user is
    never the anonymous one here; should an endpoint ever lose that permission, it answers
    401 rather than acting for nobody.
    """
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated
    return user


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>`; an unknown, expired or revoked token is refused (401)."""

    keyword = b"bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise AuthenticationFailed("The Authorization header must be 'Bearer <token>'.")
        try:
            secret = header[1].decode("ascii")
        except UnicodeError as exc:
            raise AuthenticationFailed("The token is not valid.") from exc
        token = api_token_authenticate(secret=secret, now=timezone.now())
        if token is None:
            raise AuthenticationFailed("The token is unknown, expired or revoked.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
