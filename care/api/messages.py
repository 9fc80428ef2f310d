"""Messages between a patient and their care team (API v1), for both sides.

The same paths answer the patient (their own threads, without the care team's notes) and
the care team (the clinic's threads, notes included), with the services and reads of the
pages (`care.messages`): the same text rules, the same urgent alert, the same audit rows.
Threads are addressed by their opaque id; the words of a message travel only in bodies.
Every opening of a thread by the care team is in the audit trail, as on the page; a
patient's reads of their own threads are not (as their other reads are not).
"""

import uuid
from typing import Any, Literal, cast

from django.db.models import F, QuerySet
from django.utils import timezone
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from care.accounts.selectors import clinic_clinicians_list
from care.api.authentication import api_user
from care.api.errors import Conflict
from care.api.schema import CONFLICT
from care.api.serializers import SafetyOutput
from care.audit.services import audit_view
from care.common.access import (
    get_membership_for_user,
    get_own_patient_for_user,
    get_own_thread_for_user,
    get_thread_for_user,
    patient_for_user,
)
from care.domain.crisis import crisis_block
from care.domain.messages import (
    BODY_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    TextInvalid,
    message_body,
    message_public_id,
    message_subject,
)
from care.messages.selectors import clinic_threads_list, patient_threads_list, thread_messages
from care.messages.services import (
    Posted,
    message_post,
    message_thread_assign,
    message_thread_handle,
    message_thread_read,
    message_thread_reopen,
    message_thread_start,
)
from care.models import AuditEvent, Message, MessageThread, User

# Output


class PatientThreadOutput(serializers.Serializer):
    """A thread as its patient sees it (nothing of the care team's handling)."""

    id = serializers.UUIDField(source="public_id")
    subject = serializers.CharField()
    started_at = serializers.DateTimeField(source="created_at")
    last_message_at = serializers.DateTimeField(
        help_text="The latest message of the thread (yours or the care team's)."
    )
    new_replies = serializers.IntegerField(
        source="patient_unread", help_text="The care team's replies you have not opened yet."
    )


class PersonOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="The user id (as `assigned_to` takes it).")
    name = serializers.CharField(source="__str__", help_text="Full name (or e-mail).")


class StaffThreadOutput(serializers.Serializer):
    """A thread as the care team sees it."""

    id = serializers.UUIDField(source="public_id")
    subject = serializers.CharField()
    patient = serializers.UUIDField(source="patient.public_id")
    patient_name = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=MessageThread.Status.choices)
    started_at = serializers.DateTimeField(source="created_at")
    last_message_at = serializers.DateTimeField(
        help_text="The latest message the patient can see (staff notes do not move it)."
    )
    is_urgent = serializers.BooleanField(
        help_text="The patient marked a message of the thread urgent (an urgent alert was raised)."
    )
    unread = serializers.IntegerField(
        source="staff_unread",
        help_text="The patient's messages nobody of the care team has opened yet.",
    )
    waiting_since = serializers.DateTimeField(
        allow_null=True,
        help_text="The patient's first message not replied to yet; null once replied to.",
    )
    assigned_to = PersonOutput(allow_null=True)
    handled_at = serializers.DateTimeField(allow_null=True)

    def get_patient_name(self, thread: MessageThread) -> str:
        return str(thread.patient)


def _author(message: Message) -> str | None:
    """Who of the care team wrote it (None for the patient's own messages)."""
    if message.from_patient:
        return None
    return message.author.full_name if message.author and message.author.full_name else "Care team"


class PatientMessageOutput(serializers.Serializer):
    id = serializers.SerializerMethodField(help_text="Stable; the FHIR Communication's id.")
    sender = serializers.SerializerMethodField(help_text="`patient` (you) or `care_team`.")
    author = serializers.SerializerMethodField(help_text="The care team member; null for yours.")
    sent_at = serializers.DateTimeField(source="created_at")
    is_urgent = serializers.BooleanField()
    body = serializers.CharField()

    def get_id(self, message: Message) -> uuid.UUID:
        return message_public_id(message.thread.public_id, message.pk)

    def get_sender(self, message: Message) -> Literal["patient", "care_team"]:
        return "patient" if message.from_patient else "care_team"

    def get_author(self, message: Message) -> str | None:
        return _author(message)


class StaffMessageOutput(PatientMessageOutput):
    is_staff_note = serializers.BooleanField(
        help_text="Seen by the care team only: never shown to the patient, never a reply."
    )


# The thread details' shapes (for the schema): a thread's fields and its messages, written
# by `_detail` from the thread's output and the messages' output.
class PatientThreadDetail(PatientThreadOutput):
    messages = PatientMessageOutput(many=True, help_text="Oldest first.")


class StaffThreadDetail(StaffThreadOutput):
    messages = StaffMessageOutput(many=True, help_text="Oldest first, staff notes included.")


class PatientPosted(serializers.Serializer):
    thread = PatientThreadOutput()
    message = PatientMessageOutput()
    safety = SafetyOutput(
        required=False,
        help_text="When the message is marked urgent: the care team was alerted; show the "
        "crisis resources at once.",
    )


class StaffPosted(serializers.Serializer):
    thread = StaffThreadOutput()
    message = StaffMessageOutput()


THREADS = PolymorphicProxySerializer(
    component_name="MessageThread",
    serializers=[PatientThreadOutput, StaffThreadOutput],
    resource_type_field_name=None,
    many=True,
)
THREAD_DETAIL = PolymorphicProxySerializer(
    component_name="MessageThreadDetail",
    serializers=[PatientThreadDetail, StaffThreadDetail],
    resource_type_field_name=None,
)
POSTED = PolymorphicProxySerializer(
    component_name="MessagePosted",
    serializers=[PatientPosted, StaffPosted],
    resource_type_field_name=None,
)


# Input


def _text(rule, value: str) -> str:
    try:
        return rule(value)
    except TextInvalid as invalid:
        raise serializers.ValidationError(invalid.reason) from invalid


class BodyInput(serializers.Serializer):
    body = serializers.CharField(
        trim_whitespace=False,
        allow_blank=True,
        help_text=f"Plain text, up to {BODY_MAX_LENGTH} characters (line breaks kept; "
        "control characters dropped).",
    )

    def validate_body(self, value: str) -> str:
        return _text(message_body, value)


class ReplyInput(BodyInput):
    urgent = serializers.BooleanField(
        required=False,
        help_text='The patient\'s answer to "Is this urgent?": required from the patient '
        "(true alerts the care team at once and the answer carries `safety`); the care team "
        "leaves it out.",
    )


class ThreadStartInput(ReplyInput):
    subject = serializers.CharField(
        allow_blank=True, help_text=f"One line, up to {SUBJECT_MAX_LENGTH} characters."
    )
    urgent = serializers.BooleanField(
        help_text='"Is this urgent?": true alerts the care team at once, and the answer '
        "carries `safety` (the crisis resources)."
    )

    def validate_subject(self, value: str) -> str:
        return _text(message_subject, value)


class ThreadQuery(serializers.Serializer):
    unread = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="Patients: threads with (or without) a reply not opened yet. Staff: "
        "threads with (or without) messages of the patient nobody has opened.",
    )
    waiting = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="Staff: open threads whose patient waits for a reply (or the others).",
    )
    assigned = serializers.ChoiceField(
        choices=[("me", "Assigned to me"), ("nobody", "Assigned to nobody")],
        required=False,
        help_text="Staff: `me` or `nobody`.",
    )
    patient = serializers.UUIDField(required=False, help_text="Staff: the patient's id.")
    status = serializers.ChoiceField(
        choices=MessageThread.Status.choices, required=False, help_text="Staff: open or handled."
    )


class AssignInput(serializers.Serializer):
    assigned_to = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(),
        allow_null=True,
        help_text="A clinician or admin of the clinic (user id), or null for nobody.",
    )

    def __init__(self, *args, clinicians: QuerySet[User] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = cast(serializers.PrimaryKeyRelatedField, self.fields["assigned_to"])
        chosen = clinicians if clinicians is not None else User.objects.none()
        field.queryset = chosen  # type: ignore[arg-type]  # stub: Manager read as a descriptor


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=MessageThread.Status.choices,
        help_text="`handled` (a new message of the patient opens it again) or `open`.",
    )


# Views


def _staff_thread(request: Request, public_id: str) -> MessageThread:
    get_membership_for_user(request.user)
    return get_thread_for_user(request.user, public_id)


def _order_by_attention(threads: QuerySet[MessageThread]) -> QuerySet[MessageThread]:
    """As the inbox orders unread and waiting threads: urgent first, then the longest
    waiting, then the latest activity."""
    return threads.order_by(
        "-is_urgent", F("waiting_since").asc(nulls_last=True), "-last_message_at", "-id"
    )


class ThreadListApi(ListAPIView):
    """GET: message threads, the latest activity first. A patient: their own. Clinic staff:
    the clinic's, with filters (`unread`, `waiting`, `assigned`, `patient`, `status`; with
    `unread` or `waiting` true, urgent first, then the longest waiting).
    POST: a patient writes to their care team: a new thread with its first message."""

    queryset = MessageThread.objects.none()  # names the model for the schema
    serializer_class = PatientThreadOutput
    filter_backends = []

    @extend_schema(parameters=[ThreadQuery], responses=THREADS)
    def get(self, request: Request, *args, **kwargs) -> Response:
        query = ThreadQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        user = api_user(request)
        patient = patient_for_user(user)
        if patient is not None:
            threads = patient_threads_list(patient=patient)
            if filters.get("unread") is not None:
                chosen = {"patient_unread__gt": 0}
                unread = filters["unread"]
                threads = threads.filter(**chosen) if unread else threads.exclude(**chosen)
            return self._page(threads, PatientThreadOutput)
        membership = get_membership_for_user(user)
        threads = self._staff_filtered(
            clinic_threads_list(clinic=membership.clinic, state="all"), filters, user
        )
        response = self._page(threads, StaffThreadOutput)
        audit_view(request, action=AuditEvent.Action.VIEWED, what=AuditEvent.What.MESSAGE_THREAD)
        return response

    @staticmethod
    def _staff_filtered(
        threads: QuerySet[MessageThread], filters: dict[str, Any], user: User
    ) -> QuerySet[MessageThread]:
        unread, waiting = filters.get("unread"), filters.get("waiting")
        if unread is not None:
            chosen = {"staff_unread__gt": 0}
            threads = threads.filter(**chosen) if unread else threads.exclude(**chosen)
        if waiting is not None:
            waits = {"status": MessageThread.Status.OPEN, "waiting_since__isnull": False}
            threads = threads.filter(**waits) if waiting else threads.exclude(**waits)
        if filters.get("assigned") == "me":
            threads = threads.filter(assigned_to=user)
        elif filters.get("assigned") == "nobody":
            threads = threads.filter(assigned_to__isnull=True)
        if filters.get("patient") is not None:
            threads = threads.filter(patient__public_id=filters["patient"])
        if filters.get("status"):
            threads = threads.filter(status=filters["status"])
        return _order_by_attention(threads) if unread or waiting else threads

    def _page(self, threads: QuerySet[MessageThread], output) -> Response:
        page = self.paginate_queryset(threads)
        if page is None:  # only without a pagination class, and this view has the default
            raise RuntimeError("The message thread list is paginated.")
        return self.get_paginated_response(output(page, many=True).data)

    @extend_schema(request=ThreadStartInput, responses={201: PatientPosted})
    def post(self, request: Request, *args, **kwargs) -> Response:
        patient = get_own_patient_for_user(request.user)
        data = ThreadStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        urgent = data.validated_data["urgent"]
        posted = message_thread_start(
            patient=patient,
            subject=data.validated_data["subject"],
            body=data.validated_data["body"],
            urgent=urgent,
            now=timezone.now(),
        )
        return Response(_patient_posted(posted, urgent), status=status.HTTP_201_CREATED)


def _patient_posted(posted: Posted, urgent: bool) -> dict:
    body: dict[str, Any] = PatientPosted(
        {"thread": posted.message.thread, "message": posted.message}
    ).data
    if urgent:
        body["safety"] = crisis_block(alert_raised=True)
    return body


class ThreadDetailApi(APIView):
    """A thread with its messages, oldest first. Its patient: without the care team's notes
    (their new replies are then read). Clinic staff: notes included; the patient's messages
    are then read for the whole care team, and the opening is in the audit trail."""

    @extend_schema(responses=THREAD_DETAIL)
    def get(self, request: Request, public_id: str) -> Response:
        user = api_user(request)
        now = timezone.now()
        if patient_for_user(user) is not None:
            thread = get_own_thread_for_user(user, public_id)
            message_thread_read(thread=thread, by=user, now=now)
            messages = thread_messages(thread=thread, for_patient=True)
            return Response(_detail(thread, messages, PatientThreadOutput, PatientMessageOutput))
        thread = _staff_thread(request, public_id)
        message_thread_read(thread=thread, by=user, now=now)
        messages = thread_messages(thread=thread, for_patient=False)
        return Response(_detail(thread, messages, StaffThreadOutput, StaffMessageOutput))


def _detail(
    thread: MessageThread,
    messages: QuerySet[Message],
    thread_output: type[serializers.Serializer],
    message_output: type[serializers.Serializer],
) -> dict:
    """A thread's fields and its messages shown (PatientThreadDetail, StaffThreadDetail)."""
    rows = list(messages)
    for message in rows:
        message.thread = thread  # one thread: its id for each message's, without a query
    return {**thread_output(thread).data, "messages": message_output(rows, many=True).data}


class ThreadReplyApi(APIView):
    """A message to the thread: the patient's (answering "Is this urgent?"; a handled thread
    opens again) or a care team member's reply. The thread and the message come back."""

    @extend_schema(request=ReplyInput, responses={201: POSTED})
    def post(self, request: Request, public_id: str) -> Response:
        user = api_user(request)
        data = ReplyInput(data=request.data)
        if patient_for_user(user) is not None:
            thread = get_own_thread_for_user(user, public_id)
            data.is_valid(raise_exception=True)
            if "urgent" not in data.validated_data:
                raise ValidationError({"urgent": ["Say whether this is urgent."]})
            urgent = data.validated_data["urgent"]
            posted = message_post(
                thread=thread,
                by=user,
                body=data.validated_data["body"],
                urgent=urgent,
                now=timezone.now(),
            )
            return Response(_patient_posted(posted, urgent), status=status.HTTP_201_CREATED)
        thread = _staff_thread(request, public_id)
        data.is_valid(raise_exception=True)
        if data.validated_data.get("urgent"):
            raise ValidationError({"urgent": ["Only the patient marks a message urgent."]})
        posted = message_post(
            thread=thread, by=user, body=data.validated_data["body"], now=timezone.now()
        )
        return _staff_posted(posted)


def _staff_posted(posted: Posted) -> Response:
    body = StaffPosted({"thread": posted.message.thread, "message": posted.message}).data
    return Response(body, status=status.HTTP_201_CREATED)


class ThreadNoteApi(APIView):
    """A staff note on the thread: seen by the care team only, never by the patient, never
    counted as a reply."""

    @extend_schema(request=BodyInput, responses={201: StaffPosted})
    def post(self, request: Request, public_id: str) -> Response:
        thread = _staff_thread(request, public_id)
        data = BodyInput(data=request.data)
        data.is_valid(raise_exception=True)
        posted = message_post(
            thread=thread,
            by=api_user(request),
            body=data.validated_data["body"],
            staff_note=True,
            now=timezone.now(),
        )
        return _staff_posted(posted)


class ThreadAssignApi(APIView):
    """Give the thread to a clinician or admin of the clinic, or to nobody (null)."""

    @extend_schema(request=AssignInput, responses=StaffThreadOutput)
    def post(self, request: Request, public_id: str) -> Response:
        thread = _staff_thread(request, public_id)
        clinicians = clinic_clinicians_list(clinic=thread.patient.clinic)
        data = AssignInput(data=request.data, clinicians=clinicians)
        data.is_valid(raise_exception=True)
        message_thread_assign(
            thread=thread,
            to=data.validated_data["assigned_to"],
            by=api_user(request),
            now=timezone.now(),
        )
        return Response(StaffThreadOutput(thread).data)


class ThreadStatusApi(APIView):
    """Mark the thread handled, or open it again; 409 if it already is."""

    @extend_schema(request=StatusInput, responses={200: StaffThreadOutput, 409: CONFLICT})
    def post(self, request: Request, public_id: str) -> Response:
        thread = _staff_thread(request, public_id)
        data = StatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        user, now = api_user(request), timezone.now()
        if data.validated_data["status"] == MessageThread.Status.HANDLED:
            if not message_thread_handle(thread=thread, by=user, now=now):
                raise Conflict("This thread was already marked handled.")
        elif not message_thread_reopen(thread=thread, by=user, now=now):
            raise Conflict("This thread is open already.")
        return Response(StaffThreadOutput(thread).data)
