"""The audit trail: who viewed, exported or changed which patient's data, and sign-ins.

Rows are append-only. The model and its QuerySet refuse updates and deletes, and the
database refuses them too (triggers, created in migration 0004). A row holds who, what,
when and which patient (by reference), never health data: no scores, answers, notes or
vital signs.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from care.models.accounts import Clinic, Patient

APPEND_ONLY_MESSAGE = "care_auditevent is append-only"
EMAIL_SNAPSHOT_LENGTH = 254
PATH_LENGTH = 200


class AuditEventImmutable(Exception):
    """An audit event cannot be changed or deleted."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditEventImmutable(APPEND_ONLY_MESSAGE)

    def delete(self):
        raise AuditEventImmutable(APPEND_ONLY_MESSAGE)

    def _raw_delete(self, using):
        raise AuditEventImmutable(APPEND_ONLY_MESSAGE)

    def _update(self, values):
        raise AuditEventImmutable(APPEND_ONLY_MESSAGE)

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditEventImmutable(APPEND_ONLY_MESSAGE)


class AuditEvent(models.Model):
    """One thing that happened: an actor did an action to a kind of record, at a time."""

    class Role(models.TextChoices):
        PATIENT = "patient", _("Patient")
        CLINICIAN = "clinician", _("Clinician")
        ADMIN = "admin", _("Clinic admin")
        OTHER = "other", _("Signed in, no clinic role")
        ANONYMOUS = "anonymous", _("Not signed in")
        SYSTEM = "system", _("System")

    class Action(models.TextChoices):
        VIEWED = "viewed", _("Viewed")
        EXPORTED = "exported", _("Exported")
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Changed")
        RECORDED = "recorded", _("Recorded")
        CANCELLED = "cancelled", _("Cancelled")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ENROLLED = "enrolled", _("Enrolled")
        INVITATION_SENT = "invitation_sent", _("Invitation sent")
        DEACTIVATED = "deactivated", _("Deactivated")
        REACTIVATED = "reactivated", _("Reactivated")
        TOKEN_ISSUED = "token_issued", _("API token issued")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        LOGIN = "login", _("Signed in")
        LOGIN_FAILED = "login_failed", _("Sign-in failed")
        SECOND_FACTOR_FAILED = "code_failed", _("Wrong sign-in code")
        # A code sent while the account's codes (or the address) were locked out: not
        # tried, not counted; the row never holds the code.
        SECOND_FACTOR_REFUSED = "code_refused", _("Sign-in code refused (locked out)")
        LOGOUT = "logout", _("Signed out")
        # Asked for a record by its id and refused (404): another clinic's, another
        # patient's, or none at all; the row names the id asked for, never the record.
        DENIED = "denied", _("Denied")
        # A file of patient data deleted from the server (an export after its download or expiry).
        REMOVED = "removed", _("Removed")
        # Messages between patient and care team (never their words: the thread's id).
        SENT = "sent", _("Sent")
        NOTE_ADDED = "note_added", _("Staff note added")
        ASSIGNED = "assigned", _("Assigned")
        HANDLED = "handled", _("Marked handled")
        # A session booked or moved over a conflict (outside hours, no chair, the patient
        # already booked): the reason is on the session, never in the row.
        OVERRIDDEN = "overridden", _("Booked despite a conflict")
        REOPENED = "reopened", _("Reopened")

    class What(models.TextChoices):
        ACCOUNT = "account", _("Account")
        PATIENT = "patient", _("Patient record")
        CASELOAD = "caseload", _("Caseload")
        CHECKIN = "checkin", _("Check-ins")
        ASSESSMENT = "assessment", _("Questionnaires")
        SESSION = "session", _("Treatment sessions")
        ALERT = "alert", _("Alert")
        TRENDS = "trends", _("Trends")
        FHIR = "fhir", _("FHIR bundle")
        ALL_RECORDS = "all_records", _("All records")
        STAFF = "staff", _("Staff member")
        CLINIC = "clinic", _("Clinic settings")
        API_TOKEN = "api_token", _("API token")
        OUTCOMES = "outcomes", _("Clinic outcomes")
        OUTBOX = "outbox", _("E-mails sent (outbox)")
        AUDIT = "audit", _("Audit trail")
        EXPORT_FILE = "export_file", _("Export file")
        MESSAGE_THREAD = "message_thread", _("Messages")
        # A patient's phone numbers, consent to calls and texts, emergency contact, safety
        # plan: the row says they changed, never what they are.
        CONTACT = "contact", _("Contact details")
        TREATMENT_PLAN = "treatment_plan", _("Treatment plan")
        WEIGHT = "weight", _("Body weight")
        READINESS = "readiness", _("Readiness check")
        REFLECTION = "reflection", _("Reflection after a session")
        MOVE_REQUEST = "move_request", _("Request to move a session")
        # The text-message provider's webhook: a request whose signature did not verify.
        TEXT_WEBHOOK = "text_webhook", _("Text-message webhook")

    class Channel(models.TextChoices):
        PAGE = "page", _("Web page")
        API = "api", _("API")
        ADMIN = "admin", _("Django admin")
        LINK = "link", _("E-mailed link, not signed in")
        SYSTEM = "system", _("Task or system")

    at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    # The address at the time: accounts change address, and a failed sign-in may name
    # an account that does not exist (kept short, and only when it looks like an address).
    actor_email = models.CharField(_("e-mail"), max_length=EMAIL_SNAPSHOT_LENGTH, blank=True)
    actor_role = models.CharField(_("role"), max_length=20, choices=Role)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=20, choices=Action)
    what = models.CharField(_("record"), max_length=20, choices=What)
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel)
    path = models.CharField(_("path"), max_length=PATH_LENGTH, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        base_manager_name = "objects"
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["clinic", "-at"], name="auditevent_clinic_at"),
            models.Index(fields=["patient", "-at"], name="auditevent_patient_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.get_what_display()} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, **kwargs) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise AuditEventImmutable(APPEND_ONLY_MESSAGE)
        # Always an INSERT, even with a primary key given.
        super().save(**{**kwargs, "force_insert": True})

    def delete(self, *args, **kwargs):
        raise AuditEventImmutable(APPEND_ONLY_MESSAGE)
