"""Operational records of the notification pipeline."""

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


# Defaults as functions, not fixed `time` values: Django's checks warn of a "fixed default"
# (fields.W161) for a time default within 10 s of the moment they run, so `check --deploy`
# failed each day at 08:00, 19:00 and 22:00 UTC.
def default_checkin_time() -> time:
    return time(19, 0)


def default_quiet_start() -> time:
    return time(22, 0)


def default_quiet_end() -> time:
    return time(8, 0)


class Heartbeat(models.Model):
    """The last time a named periodic source (e.g. Celery beat) was seen working.

    Beat enqueues `record_heartbeat("beat")` every minute and a worker writes this row,
    so a fresh row proves that beat, the broker and a worker all work.
    """

    name = models.CharField(_("name"), max_length=50, unique=True)
    beat_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class ReminderPreference(models.Model):
    """How and when one patient wants reminders (created at enrollment)."""

    patient = models.OneToOneField(
        "care.Patient", on_delete=models.CASCADE, related_name="reminder_preference"
    )
    email_enabled = models.BooleanField(_("e-mail reminders"), default=True)
    checkin_time = models.TimeField(_("daily check-in reminder at"), default=default_checkin_time)
    quiet_start = models.TimeField(_("quiet hours from"), default=default_quiet_start)
    quiet_end = models.TimeField(_("quiet hours until"), default=default_quiet_end)
    paused_until = models.DateField(_("paused until"), null=True, blank=True)
    # Kinds the patient unsubscribed from with a one-click link.
    unsubscribed = models.JSONField(_("unsubscribed from"), default=list, blank=True)
    # Kinds the patient takes as text messages too (or instead, with e-mail off): sent only
    # to a mobile number with the patient's consent to texts, not stopped (TextNumberBlock).
    text_kinds = models.JSONField(_("by text message"), default=list, blank=True)

    class Meta:
        verbose_name = _("reminder preference")
        verbose_name_plural = _("reminder preferences")

    def __str__(self) -> str:
        return f"Reminder preference of patient #{self.patient_id}"


class Delivery(models.Model):
    """One e-mail the system owes someone: the truth about reminders (not the broker).

    (kind, subject_key, due_at) is unique, so computing the same due item twice creates one
    row; the send task claims a row by a conditional update before sending.
    """

    class Kind(models.TextChoices):
        CHECKIN = "checkin_due", _("Daily check-in")
        QUESTIONNAIRE = "questionnaire_due", _("Questionnaire due")
        SESSION = "session_tomorrow", _("Session tomorrow")
        SAFETY_ONCALL = "safety_oncall", _("Safety alert: on-call contact")
        SAFETY_ESCALATION = "safety_escalation", _("Safety alert: escalation")
        DIGEST = "digest", _("Daily digest")
        # A new message: to the patient (a reply), to the care team (the patient wrote).
        MESSAGE = "message", _("Message notice")
        MESSAGE_STAFF = "message_staff", _("Message notice: care team")
        # The invitation to write a short reflection 24-72 hours after a held session.
        INTEGRATION = "integration_prompt", _("Reflection after a session")

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        TEXT = "text", _("Text message")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    class SkipReason(models.TextChoices):
        """Why a reminder was not sent (a skipped row's reason, in words for the staff)."""

        TOO_LATE = "too_late", _("too late: more than 3 hours past its time")
        QUIET_HOURS = "quiet_hours", _("inside the patient's quiet hours")
        UNSUBSCRIBED = "unsubscribed", _("the patient unsubscribed from this kind")
        PAUSED = "paused", _("reminders paused")
        EMAIL_OFF = "email_off", _("reminder e-mails turned off")
        CAPPED = "capped", _("three unanswered in a row: no more this week")
        ALREADY_DONE = "already_done", _("already done")
        CHANGED = "changed", _("the session moved or was cancelled")
        NOTHING_OPEN = "nothing_open", _("no open alerts")
        ACKNOWLEDGED = "acknowledged", _("the alert was acknowledged")
        READ = "read", _("the message was read before the notice went")
        WINDOW_PASSED = "window_passed", _("could not go within 72 hours of the session")
        TEXT_HOURS = "text_hours", _("texts go only between 08:00 and 21:00")
        TEXT_STOPPED = "text_stopped", _("texts to this number are stopped")
        NO_TEXT_CONSENT = "no_text_consent", _("no mobile number with consent to texts")
        TEXTS_OFF = "texts_off", _("this installation sends no texts")

    # The kinds a patient may take by text too (the care team's notices stay e-mails).
    TEXT_KINDS = (
        Kind.CHECKIN,
        Kind.QUESTIONNAIRE,
        Kind.SESSION,
        Kind.MESSAGE,
        Kind.INTEGRATION,
    )

    kind = models.CharField(_("kind"), max_length=30, choices=Kind)
    # The idempotency key, e.g. "patient:12:2026-05-04" or "alert:5:user:3": with the kind
    # and due time, unique (one delivery per due item). Only ever compared whole: what the
    # delivery is about is in the columns below (patient, alert, session, recipient, day).
    subject_key = models.CharField(_("subject"), max_length=100)
    due_at = models.DateTimeField(_("due"))
    patient = models.ForeignKey(
        "care.Patient", on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    # Indexed only where set (delivery_alert below): most deliveries are reminders, with none.
    alert = models.ForeignKey(
        "care.Alert",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        db_index=False,
    )
    # The session of a "session tomorrow" or pre-session questionnaire reminder. Kept (empty)
    # if the session is deleted: the reminder is then no longer needed, its record stays.
    # RESTRICT: a session with deliveries cannot be deleted on its own (the app cancels
    # sessions; it never deletes them), so a reminder always knows its session; deleting the
    # patient deletes both. (SET_NULL would make a pre-session reminder look like a
    # maintenance one.)
    session = models.ForeignKey(
        "care.TreatmentSession",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="deliveries",
        db_index=False,
    )
    # The staff member an escalation or digest goes to (the on-call contact is an address,
    # not a user). Kept (empty) if the user is deleted: the e-mail then fails visibly.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # The local day the delivery is about: a check-in reminder's day, a session's day (its
    # reminders), a digest's day; for a maintenance questionnaire reminder, the day of the
    # completion its episode counts from (empty: none yet).
    day = models.DateField(_("day"), null=True, blank=True)
    # A message notice's thread (indexed only where set, below: most deliveries have none).
    thread = models.ForeignKey(
        "care.MessageThread",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        db_index=False,
    )
    channel = models.CharField(
        _("channel"), max_length=5, choices=Channel, default=Channel.EMAIL, db_default="email"
    )
    # The address of an e-mail; empty for a text, which goes to `to_phone` (E.164).
    to_email = models.EmailField(_("to"), blank=True)
    to_phone = models.CharField(_("to number"), max_length=16, blank=True, db_default="")
    # A text's provider message id (Twilio's SID) and its latest status from the provider's
    # callbacks (queued, sent, delivered, undelivered, failed); GSM-7 or UCS-2 and how many
    # segments it was billed as.
    provider_id = models.CharField(_("provider id"), max_length=64, blank=True, db_default="")
    provider_status = models.CharField(
        _("provider status"), max_length=20, blank=True, db_default=""
    )
    encoding = models.CharField(_("encoding"), max_length=5, blank=True, db_default="")
    segments = models.PositiveSmallIntegerField(_("segments"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    # Set when (and only when) the status is skipped.
    skip_reason = models.CharField(_("skip reason"), max_length=20, choices=SkipReason, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    # After a deferral: not tried again before this (the retry backoff).
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    link_used_at = models.DateTimeField(_("link used"), null=True, blank=True)
    # The database's clock, not the inserting worker's: the sweeper compares it with the
    # database's clock too (notifications.sending), so no worker's clock decides ownership.
    created_at = models.DateTimeField(_("created"), db_default=Now())

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-due_at"]
        constraints = [
            # Once per due item and channel (an e-mail and a text of the same reminder).
            models.UniqueConstraint(
                fields=["kind", "subject_key", "due_at", "channel"],
                name="delivery_once_per_due_item_and_channel",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            # A patient's latest sent check-in reminders (the cap on unanswered reminders);
            # the rows a dispatch inserts are not in it yet.
            models.Index(
                fields=["patient", "due_at"],
                condition=models.Q(kind="checkin_due", status="sent"),
                name="delivery_checkin_sent",
            ),
            models.Index(
                fields=["thread", "due_at"],
                condition=models.Q(thread__isnull=False),
                name="delivery_thread",
            ),
            models.Index(
                fields=["alert"], condition=models.Q(alert__isnull=False), name="delivery_alert"
            ),
            # For deleting a session (RESTRICT) or a user (SET_NULL), only where set.
            models.Index(
                fields=["session"],
                condition=models.Q(session__isnull=False),
                name="delivery_session",
            ),
            # A status callback finds its text by the provider's id.
            models.Index(
                fields=["provider_id"],
                condition=~models.Q(provider_id=""),
                name="delivery_provider_id",
            ),
            models.Index(
                fields=["recipient"],
                condition=models.Q(recipient__isnull=False),
                name="delivery_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.subject_key} due {self.due_at:%Y-%m-%d %H:%M}"


class TextNumberBlock(models.Model):
    """A phone number no text goes to: it replied STOP (or UNSUBSCRIBE, CANCEL, END, QUIT),
    or the provider refused it for good (invalid, unsubscribed at the carrier, a landline).
    START (or UNSTOP) from the number removes a STOP block; a failure block lasts until the
    patient's number changes (a new number has no block)."""

    class Reason(models.TextChoices):
        STOP = "stop", _("replied STOP")
        FAILED = "failed", _("the provider refused the number")

    number = models.CharField(_("number"), max_length=16, unique=True)  # E.164
    reason = models.CharField(_("reason"), max_length=10, choices=Reason)
    # The provider's error code of a failure block (e.g. 21211 invalid, 21610 unsubscribed).
    error_code = models.PositiveIntegerField(_("error code"), null=True, blank=True)
    since = models.DateTimeField(_("since"))

    class Meta:
        verbose_name = _("blocked text number")
        verbose_name_plural = _("blocked text numbers")

    def __str__(self) -> str:
        return f"Texts blocked ({self.reason}) since {self.since:%Y-%m-%d %H:%M}"


class TextReply(models.Model):
    """A text a patient's number sent us, as the provider's webhook told it: what it asked
    (STOP, START, HELP, or anything else) and what we answered. The words themselves are not
    kept: replies are not messages to the care team (the answer points to the app and the
    crisis line), and they may carry health words."""

    class Keyword(models.TextChoices):
        STOP = "stop", _("STOP")
        START = "start", _("START")
        HELP = "help", _("HELP")
        OTHER = "other", _("something else")

    # The provider's id of the incoming message: a webhook delivered twice is one reply.
    provider_id = models.CharField(_("provider id"), max_length=64, unique=True)
    number = models.CharField(_("from"), max_length=16, db_index=True)
    keyword = models.CharField(_("keyword"), max_length=5, choices=Keyword)
    received_at = models.DateTimeField(_("received"))
    # Whether we answered it (a second STOP, or an "other" reply soon after the last one
    # answered, gets no answer: one confirmation, no loops with automatic senders).
    answered = models.BooleanField(_("answered"), default=False)

    class Meta:
        verbose_name = _("text reply")
        verbose_name_plural = _("text replies")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.get_keyword_display()} reply at {self.received_at:%Y-%m-%d %H:%M}"
