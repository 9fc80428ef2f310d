"""Template context of the notifications app: whether the staff's navigation shows the Outbox."""

from django.http import HttpRequest

from care.common.access import membership_for_user
from notifications.outbox import outbox_enabled


def outbox(request: HttpRequest) -> dict:
    """`outbox_enabled`: clinic staff (past their second factor) where mail or texts go to
    files."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not outbox_enabled():
        return {"outbox_enabled": False}
    # Staff setting up their second factor see nothing of the clinic yet.
    staff = membership_for_user(user) is not None
    return {"outbox_enabled": staff and not getattr(request, "second_factor_missing", False)}
