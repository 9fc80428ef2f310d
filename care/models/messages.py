"""Messages between a patient and their care team: threads with a subject, text only.

The care team reads as one: a patient's message is unread until someone of the team opens
its thread (the audit trail says who did, and when). `staff_unread` and `patient_unread`
count the messages each side has not opened yet, so the caseload and the navigation count
them without reading the messages. A staff note is a message only the care team sees: it
never reaches the patient's pages, never counts as a reply and never moves the thread's
last activity (whose date the patient sees).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from care.domain.messages import BODY_MAX_LENGTH, SUBJECT_MAX_LENGTH
from care.models.accounts import Patient


class MessageThread(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        HANDLED = "handled", _("Handled")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="message_threads")
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("started"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OPEN)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_message_threads",
        verbose_name=_("assigned to"),
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A message of the thread was marked urgent by the patient (an urgent alert was raised).
    is_urgent = models.BooleanField(_("marked urgent"), default=False)
    # The last message the patient can see (staff notes do not count).
    last_message_at = models.DateTimeField(_("last message"))
    # The first of the patient's messages the care team has not replied to; None once it has.
    waiting_since = models.DateTimeField(_("waiting for a reply since"), null=True, blank=True)
    # The patient's messages nobody of the care team has opened yet.
    staff_unread = models.PositiveIntegerField(default=0)
    # The care team's replies the patient has not opened yet, and when they last opened it.
    patient_unread = models.PositiveIntegerField(default=0)
    patient_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("message thread")
        verbose_name_plural = _("message threads")
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-last_message_at"], name="thread_patient_last"),
            # The caseload's and the navigation's unread counts: only the threads with
            # unread messages are in it, so it stays small however many threads there are.
            models.Index(
                fields=["patient"],
                condition=models.Q(staff_unread__gt=0),
                name="thread_staff_unread",
            ),
            # The dispatcher's notices, every minute: the threads with unread messages on
            # either side (notifications/dispatch/messages.py), without reading the others.
            models.Index(
                fields=["last_message_at"],
                condition=models.Q(patient_unread__gt=0) | models.Q(staff_unread__gt=0),
                name="thread_unread_either",
            ),
            # The hourly response-target rule: the open threads waiting for a reply, oldest
            # first (care.alerts.selectors.threads_waiting_for_reply).
            models.Index(
                fields=["waiting_since"],
                condition=models.Q(status="open", waiting_since__isnull=False),
                name="thread_open_waiting",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open", handled_at__isnull=True)
                | models.Q(status="handled", handled_at__isnull=False),
                name="thread_handled_has_a_time",
            ),
        ]

    def __str__(self) -> str:
        # Never the subject: it is the patient's words (admin lists, logs, errors).
        return f"Message thread #{self.pk}"


class Message(models.Model):
    thread = models.ForeignKey(MessageThread, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    from_patient = models.BooleanField(default=False)
    # Seen by the care team only: never shown to the patient, never a reply.
    is_staff_note = models.BooleanField(_("staff note"), default=False)
    is_urgent = models.BooleanField(_("marked urgent"), default=False)
    body = models.TextField(_("message"), max_length=BODY_MAX_LENGTH)
    created_at = models.DateTimeField(_("sent"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["thread", "created_at"], name="message_thread_at")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_patient=True, is_staff_note=True),
                name="message_note_is_staff",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_patient=False, is_urgent=True),
                name="message_urgent_from_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"Message #{self.pk}"
