"""API tokens: issue (from e-mail and password), list and revoke your own."""

from django.contrib.auth import authenticate
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from care.accounts.security import (
    second_factor_check,
    second_factor_failed,
    second_factor_locked,
    second_factor_refused,
)
from care.accounts.selectors import user_api_tokens
from care.accounts.tokens import (
    DEFAULT_TOKEN_DAYS,
    MAX_TOKEN_DAYS,
    api_token_issue,
    api_token_revoke,
)
from care.api.authentication import api_user
from care.api.errors import ErrorSerializer
from care.api.filters import TokenFilter
from care.api.throttling import AnonThrottle, TokenIssueThrottle, UserThrottle
from care.models import ApiToken


class TokenOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "active",
        ]

    def get_active(self, token: ApiToken) -> bool:
        return token.is_active(now=timezone.now())


class TokenIssued(TokenOutput):
    token = serializers.CharField(
        read_only=True, help_text="The secret. Shown only now; store it safely."
    )

    class Meta(TokenOutput.Meta):
        fields = [*TokenOutput.Meta.fields, "token"]


class TokenIssueInput(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    name = serializers.CharField(
        max_length=100, default="API client", help_text="To recognise the token in your list."
    )
    code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text="The code from your authenticator app, or one of your recovery codes "
        "(each works once), if you use two-step sign-in (always, for clinic staff).",
    )
    days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        default=DEFAULT_TOKEN_DAYS,
        help_text=f"Days until the token expires (1 to {MAX_TOKEN_DAYS}).",
    )


WRONG_CREDENTIALS = "The e-mail, password or code is not right."


class TokenListApi(ListAPIView):
    """GET: your tokens, newest first. POST: a new token, from your e-mail and password."""

    queryset = ApiToken.objects.none()  # names the model for the schema
    serializer_class = TokenOutput
    filterset_class = TokenFilter

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_throttles(self):
        if self.request.method == "POST":
            return [TokenIssueThrottle(), AnonThrottle(), UserThrottle()]
        return super().get_throttles()

    def get_queryset(self):
        return user_api_tokens(user=api_user(self.request))

    @extend_schema(
        request=TokenIssueInput,
        responses={201: TokenIssued, 400: ErrorSerializer},
        auth=[],
        summary="Obtain a token",
    )
    def post(self, request: Request) -> Response:
        data = TokenIssueInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            email=data.validated_data["email"],
            password=data.validated_data["password"],
        )
        if user is None or not user.is_active:
            # The same answer whether the account exists or not.
            raise ValidationError({"non_field_errors": [WRONG_CREDENTIALS]})
        if second_factor_locked(request._request, user):
            # Answered with the lockout response (429 `locked_out`) by AxesMiddleware; a
            # code sent now is not tried, but audited as refused.
            if data.validated_data.get("code", "").strip():
                second_factor_refused(request._request, user)
            raise ValidationError({"non_field_errors": [WRONG_CREDENTIALS]})
        second_factor = second_factor_check(user, data.validated_data.get("code", ""))
        if second_factor == "missing":
            raise ValidationError(
                {"code": ["Set up two-step sign-in in the web app first, then ask again."]}
            )
        if second_factor == "wrong":
            # Counted and audited as a wrong code (lockout), and told apart from nothing else.
            second_factor_failed(request._request, user)
            raise ValidationError({"non_field_errors": [WRONG_CREDENTIALS]})
        issued = api_token_issue(
            user=user,
            name=data.validated_data["name"],
            days=data.validated_data["days"],
            now=timezone.now(),
        )
        body = TokenIssued(issued.token).data | {"token": issued.secret}
        return Response(body, status=status.HTTP_201_CREATED)


class TokenDetailApi(APIView):
    """DELETE: revoke one of your tokens (it stops working at once)."""

    @extend_schema(responses={204: OpenApiResponse(description="Revoked.")})
    def delete(self, request: Request, public_id: str) -> Response:
        token = user_api_tokens(user=api_user(request)).filter(public_id=public_id).first()
        if token is None:
            raise Http404
        api_token_revoke(token=token, now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)
