"""Sign-ins, failed sign-ins and sign-outs go to the audit trail; deactivation revokes access.

Django's auth signals are the one place every way of signing in passes through (the
sign-in page, an invitation's first sign-in, an API token's password check), and saving
the User the one place every way of deactivating passes through (the staff page, the Django
admin, the shell), so the receivers are connected in `CareConfig.ready`.
"""

from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from care.accounts.security import LOCKOUT_SCOPE, SECOND_FACTOR_SCOPE
from care.accounts.services import user_access_revoke
from care.audit.services import audit_record, audit_sign_in_failed, typed_email
from care.models import AuditEvent, User


def record_login(sender, request, user, **kwargs) -> None:
    audit_record(
        action=AuditEvent.Action.LOGIN,
        what=AuditEvent.What.ACCOUNT,
        actor=user,
        object_id=user.pk,
        request=request,
    )


def record_login_failed(sender, credentials, request=None, **kwargs) -> None:
    """A wrong password, or a wrong second-factor code (care.accounts.security.second_factor_failed)
    recorded as such (services.audit.audit_sign_in_failed); the code itself never is."""
    email = typed_email(credentials.get(User.USERNAME_FIELD) or credentials.get("username"))
    user = User.objects.filter(email__iexact=email).first() if email else None
    wrong_code = credentials.get(LOCKOUT_SCOPE) == SECOND_FACTOR_SCOPE
    audit_sign_in_failed(
        action=AuditEvent.Action.SECOND_FACTOR_FAILED
        if wrong_code
        else AuditEvent.Action.LOGIN_FAILED,
        email=email,
        user=user,
        request=request,
    )


def record_logout(sender, request, user, **kwargs) -> None:
    if user is None or not user.is_authenticated:
        return
    audit_record(
        action=AuditEvent.Action.LOGOUT,
        what=AuditEvent.What.ACCOUNT,
        actor=user,
        object_id=user.pk,
        request=request,
    )


def note_stored_is_active(sender, instance, update_fields=None, **kwargs) -> None:
    """Remember whether the stored user was active, when this save may turn that off."""
    saves_is_active = update_fields is None or "is_active" in update_fields
    if instance.pk is None or instance.is_active or not saves_is_active:
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    instance._deactivating = bool(stored)


def revoke_access_of_deactivated_user(sender, instance, created, **kwargs) -> None:
    """A user saved inactive who was active loses their tokens and open invitations."""
    if not created and getattr(instance, "_deactivating", False):
        instance._deactivating = False
        user_access_revoke(user=instance, now=timezone.now())


def connect() -> None:
    user_logged_in.connect(record_login, dispatch_uid="care.audit.login")
    user_login_failed.connect(record_login_failed, dispatch_uid="care.audit.login_failed")
    user_logged_out.connect(record_logout, dispatch_uid="care.audit.logout")
    pre_save.connect(note_stored_is_active, sender=User, dispatch_uid="care.user.was_active")
    post_save.connect(
        revoke_access_of_deactivated_user, sender=User, dispatch_uid="care.user.deactivated"
    )
