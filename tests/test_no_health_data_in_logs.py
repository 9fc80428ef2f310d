"""No health data in logs, e-mails, task arguments or URLs (issue 7; docs/security.md).

Markers are planted in check-in notes (page, API, e-mailed link), a patient's names and
date of birth, sessions' notes, adverse events and lot numbers, acknowledgement notes, and
messages between patient and care team (subjects, messages, replies, staff notes).
Pages, API, tasks and e-mails then run with every logger at DEBUG, and no marker may show
up in a log record (message, arguments, traceback, extras), an e-mail (subject, bodies,
headers), an enqueued task argument, a requested URL, a response header (redirects, file
names, cookies; signed tokens decoded) or an audit row. One exception: an e-mail to a
patient may greet them by their preferred name. Scores, bands, the
self-harm flag and vital signs cannot carry a marker, so the project's own log lines are
also checked for clinical words ("urgent safety alert for patient 42" tells a reader of a
self-harm answer).

`django.db.backends` is not checked: it logs SQL with its parameters, which are the data
by definition, and only when DEBUG is on or a test forces a debug cursor. Production runs
with DEBUG off, so those records never exist there; the promise is about what the
application and its libraries log.
"""

import logging
import smtplib
import uuid
import zlib
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from unittest.mock import Mock

import pytest
import time_machine
from django.core import signing
from django.core.mail.backends import locmem
from django.db import OperationalError
from django.test import Client
from django.test.client import ClientHandler
from django.utils import timezone

from care.accounts.tokens import api_token_issue
from care.messages.services import message_post, message_thread_read, message_thread_start
from care.models import (
    Alert,
    AuditEvent,
    ExportJob,
    Invitation,
    Message,
    MessageThread,
    Patient,
    TreatmentSession,
)
from care.records.services import assessment_submit, checkin_submit
from care.tasks import run_alert_rules, run_export, send_invitation
from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.tasks import dispatch_reminders, send_delivery
from tests.care.test_security import sign_in
from tests.factories import PASSWORD, PatientFactory, StaffFactory
from tests.notifications.clock import deliveries_age

pytestmark = pytest.mark.django_db

CANARY = f"ZZCANARY{uuid.uuid4().hex[:8]}"
PREFERRED = f"{CANARY}pref"
DOB = date(1931, 2, 27)
PRIVATE = (CANARY, "1931-02-27", "02/27/1931", "27/02/1931", "Feb. 27, 1931", "February 27, 1931")
# Contact details are personal data too: the patient's and the emergency contact's phones in
# every form they are written or typed (the names, times and safety plan carry the marker).
PHONES = {"phone_mobile": "+13125550199", "emergency_contact_phone": "+13125550142"}
PRIVATE += ("3125550199", "555-0199", "555 0199", "3125550142", "555-0142", "555 0142")
CONTACT = {
    "phone_mobile": "(312) 555-0199",
    "may_call": "on",
    "may_text": "on",
    "preferred_contact": "text",
    "contact_times": f"{CANARY}-times",
    "emergency_contact_name": f"{CANARY}-contact",
    "emergency_contact_relationship": f"{CANARY}-rel",
    "emergency_contact_phone": "312 555 0142",
    "safety_plan": f"{CANARY}-plan",
}
CLINICAL_WORDS = (
    "safety", "harm", "suicid", "worsening", "high_bp", "blood pressure", "booster",
    "severe", "moderate", "mild", "minimal", "phq", "gad", "pcl", "ptsd", "depress",
    "anxi", "dissociat", "sedat", "nausea", "craving",
)  # fmt: skip
APP_LOGGERS = ("care", "notifications", "tracker")
# SQL with its parameters (see above), and factory_boy, which only tests use.
NOT_CHECKED = ("django.db.backends", "factory")
# Standard LogRecord attributes; anything else on a record is an `extra`, checked too.
STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
PHQ9 = {str(n): 2 for n in range(1, 9)} | {"9": 1}  # 17, moderately severe, item 9 flagged
MIDNIGHT = datetime(2026, 5, 4, 4, 0, tzinfo=UTC)  # in New York, the clinic's and patient's zone


def note(where: str) -> str:
    return f"{CANARY}-{where}"


class Capture(logging.Handler):
    """Every record as (logger, message, everything), rendered at emit time with its
    arguments, traceback and extras."""

    records: list[tuple[str, str, str]]

    def emit(self, record: logging.LogRecord) -> None:
        text = logging.Formatter("%(levelname)s %(name)s %(message)s").format(record)
        extras = {k: v for k, v in vars(record).items() if k not in STANDARD}
        self.records.append((record.name, record.getMessage(), f"{text} {extras!r}"))


@pytest.fixture
def seen(monkeypatch):
    """Every logger at DEBUG, captured; every URL requested and header answered."""
    capture = Capture(logging.DEBUG)
    capture.records = []
    loggers = [logging.getLogger(name) for name in ["", *logging.root.manager.loggerDict]]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
        if lg is loggers[0] or not lg.propagate:
            lg.addHandler(capture)
    seen = {"logs": capture.records, "urls": []}
    original = ClientHandler.__call__

    def recording(handler, environ):
        response = original(handler, environ)
        seen["urls"].append(f"{environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}")
        seen["urls"] += [f"{name}: {value}" for name, value in response.items()]
        seen["urls"] += [f"Set-Cookie: {morsel.value}" for morsel in response.cookies.values()]
        return response

    monkeypatch.setattr(ClientHandler, "__call__", recording)
    yield seen
    for lg, level, disabled in saved:
        lg.setLevel(level)
        lg.disabled = disabled
        lg.removeHandler(capture)


def readable(text: str) -> str:
    """`text` and the payloads of the signed tokens in it (Django's signing is readable)."""
    decoded = []
    for word in text.translate(str.maketrans("/<>=\"';,", "        ")).split():
        payload = word.split(":")[0]
        try:
            data = signing.b64_decode(payload.lstrip(".").encode())
            data = zlib.decompress(data) if payload.startswith(".") else data
            decoded.append(data.decode())
        except Exception:  # noqa: S112 - not a token
            continue
    return " ".join([text, *decoded]).lower()


def leaks(text: str) -> list[str]:
    text = readable(text)
    return [p for p in PRIVATE if p.lower() in text]


def assert_nothing_found(seen, mailoutbox, enqueued) -> None:
    """No marker anywhere; no clinical word in the project's own log lines."""
    found = []
    for name, message, everything in seen["logs"]:
        if not name.startswith(NOT_CHECKED) and leaks(everything):
            found.append(f"log: {everything}")
        if name.split(".")[0] in APP_LOGGERS and any(w in message.lower() for w in CLINICAL_WORDS):
            found.append(f"log, clinical: {message}")
    found += [f"url or header: {url}" for url in seen["urls"] if leaks(url)]
    patients = set(Patient.objects.values_list("user__email", flat=True))
    for message in mailoutbox:
        headers = " ".join(f"{k}: {v}" for k, v in message.extra_headers.items())
        envelope = f"{message.subject} {message.from_email} {message.to} {headers}"
        bodies = " ".join([message.body, *(str(c) for c, _ in message.alternatives)])
        if set(message.to) <= patients:
            bodies = bodies.replace(PREFERRED, "")  # a greeting by first name is allowed
        if leaks(envelope) or leaks(bodies):
            found.append(f"e-mail: {envelope} {bodies}")
    found += [f"task argument: {a!r}" for a in enqueued if not isinstance(a, int)]  # ids only
    found += [f"audit: {row}" for row in AuditEvent.objects.values() if leaks(repr(row))]
    assert not found, "\n".join(found)


@pytest.fixture
def marked(clinic, clinician):
    """A patient whose names and date of birth are markers."""
    clinic.on_call_email = "on-call@clinic.example"
    clinic.save()
    patient = PatientFactory(
        clinic=clinic,
        primary_clinician=clinician,
        tz="America/New_York",
        preferred_name=PREFERRED,
        user__full_name=f"Robin {CANARY}full",
        date_of_birth=DOB,
        has_ptsd=True,
        may_call=True,
        emergency_contact_name=f"{CANARY}-ec",
        safety_plan=f"{CANARY}-plan",
        **PHONES,
    )
    ReminderPreference.objects.create(patient=patient, checkin_time=clock(19))
    return patient


def checkin_values(where: str) -> dict:
    """A bad day: low mood, side effects, thoughts of self-harm, and a marked note."""
    scales = {"mood": 1, "anxiety": 9, "energy": 2, "sleep_hours": "3.5", "sleep_quality": 0}
    flags = {"side_effects": ["dissociation", "craving"], "has_self_harm_thoughts": True}
    return scales | flags | {"note": note(where)}


def session_values(where: str) -> dict:
    kinds = ("notes", "adverse_events", "lot_number")
    return {kind: note(f"{where}-{kind[:7]}") for kind in kinds}


def plant_record(patient, *, now: datetime) -> TreatmentSession:
    """A marked check-in, a flagged PHQ-9 and a booked session with marked free text."""
    checkin_submit(patient=patient, values=checkin_values("service"), client_id=None, now=now)
    phq9 = {"instrument_code": "phq9", "answers": PHQ9, "difficulty": 2, "client_id": None}
    assessment_submit(patient=patient, entered_by=patient.user, now=now, **phq9)
    at, free_text = now + timedelta(days=1), session_values("booked")
    return TreatmentSession.objects.create(
        patient=patient, scheduled_at=at, route="iv", **free_text
    )


def record_form(where: str, *, systolic: int) -> dict:
    """The session record form: a dose, a pre-dose blood pressure, marked free text."""
    form = {"route": "iv", "dose_mg_per_kg": "0.5", "monitoring_started_at": "2026-03-02T10:00"}
    form |= {"bp_pre_systolic": systolic, "bp_pre_diastolic": 80, "confirm_high_bp": "on"}
    return form | {"dissociation": "moderate", "sedation": "mild"} | session_values(where)


def bearer(user, **options) -> Client:
    issued = api_token_issue(user=user, name="app", days=1, now=timezone.now())
    return Client(HTTP_AUTHORIZATION=f"Bearer {issued.secret}", **options)


deadlock = Mock(side_effect=OperationalError("deadlock detected"))


def validation_gap(**kwargs):
    """A value that slipped past validation: the database refuses the row (PostgreSQL
    quotes the whole row, note included, in its error)."""
    return checkin_submit(**kwargs | {"values": kwargs["values"] | {"mood": -1}})


def test_patient_pages_leave_no_health_data_behind(marked, client, mailoutbox, enqueued, seen):
    assert sign_in(client, marked.user).status_code == 302
    form = checkin_values("page") | {"has_self_harm_thoughts": "yes"}
    answers = {f"item_{n}": v for n, v in PHQ9.items()} | {"difficulty": "2"}

    pages = [client.get("/me/"), client.post("/me/checkin/", form, follow=True)]
    pages.append(client.post("/me/checkin/", form | {"mood": "11"}))  # refused, shown again
    pages.append(client.post("/me/questionnaires/phq9/", answers, follow=True))  # the result
    message = {"subject": note("subject"), "body": note("message"), "urgent": "no"}
    pages.append(client.post("/me/messages/new/", message, follow=True))  # its thread
    pages.append(client.post("/me/messages/new/", message | {"urgent": "yes"}, follow=True))
    thread = f"/me/messages/{MessageThread.objects.filter(patient=marked).first().public_id}/"
    pages.append(client.post(thread, {"body": note("reply"), "urgent": "no"}, follow=True))
    refused = client.post("/me/messages/new/", message | {"body": "x" * 2001})
    pages.append(client.get("/me/messages/"))
    for url in ("/me/history/", "/me/settings/", "/me/export.json", "/crisis/", "/me/contact/"):
        pages.append(client.get(url))
    pages.append(client.post("/me/contact/", CONTACT, follow=True))
    pages.append(client.post("/me/contact/", CONTACT | {"phone_mobile": "555-0199"}))  # refused
    for kind in ("checkins", "assessments", "sessions"):
        pages.append(client.get("/me/export.csv", {"records": kind}))
    pages.append(client.post("/accounts/logout/", follow=True))

    assert [p.status_code for p in pages] == [200] * len(pages)
    assert note("page").encode() in b"".join(pages[-4].streaming_content)  # the download
    assert Alert.objects.filter(patient=marked, kind="safety").count() == 2
    assert Alert.objects.filter(patient=marked, kind="message_urgent").count() == 1
    assert refused.status_code == 400 and note("subject").encode() in refused.content
    assert Message.objects.filter(body=note("reply")).count() == 1
    assert_nothing_found(seen, mailoutbox, enqueued)


def test_staff_pages_leave_no_health_data_behind(
    marked, clinic, client, mailoutbox, enqueued, django_capture_on_commit_callbacks, seen
):
    session = plant_record(marked, now=timezone.now() - timedelta(days=1))
    admin = StaffFactory(clinic=clinic, role="admin").user
    assert sign_in(client, admin).status_code == 302
    patient_page = f"/staff/patients/{marked.public_id}/"
    record = record_form("recorded", systolic=187)  # above the hold: a high alert too
    enrollment = {"full_name": f"Sam {CANARY}enrolled", "preferred_name": PREFERRED}
    enrollment |= {"email": "sam@example.org", "date_of_birth": DOB, "tz": "America/Chicago"}
    enrollment |= {"conditions": ["ptsd"], "consultation_on": clinic.local_date(timezone.now())}
    enrollment |= CONTACT | {"tz": "Europe/London"}  # with the warning of another country

    pages = [client.get("/staff/patients/"), client.get(patient_page)]
    pages.append(client.get(f"{patient_page}edit/"))
    pages.append(client.post(f"/staff/sessions/{session.pk}/record/", record, follow=True))
    pages += [client.get("/staff/alerts/"), client.get("/staff/sessions/")]
    for alert in Alert.objects.filter(patient=marked):
        ack = {"action": "called_patient", "note": note("ack"), "next": patient_page}
        pages.append(client.post(f"/staff/alerts/{alert.pk}/acknowledge/", ack, follow=True))
    thread = message_thread_start(
        patient=marked,
        subject=note("subject"),
        body=note("message"),
        urgent=True,
        now=timezone.now(),
    ).message.thread
    thread_page = f"/staff/messages/{thread.public_id}/"
    pages += [client.get("/staff/messages/"), client.get(thread_page), client.get(patient_page)]
    pages.append(client.post(f"{thread_page}reply/", {"body": note("reply")}, follow=True))
    pages.append(client.post(f"{thread_page}note/", {"note-body": note("staff")}, follow=True))
    pages.append(client.post(f"{thread_page}assign/", {"assigned_to": admin.pk}, follow=True))
    pages.append(client.post(f"{thread_page}handled/", follow=True))
    pages.append(client.get("/staff/alerts/"))  # the urgent message's alert
    refused = client.post(f"{thread_page}reply/", {"body": " "})
    for kind in ("checkins", "assessments", "sessions"):
        pages.append(client.get(f"{patient_page}export.csv", {"records": kind}))
        with django_capture_on_commit_callbacks(execute=True):
            pages.append(client.post("/staff/exports/", {"records": kind}, follow=True))
        run_export(enqueued[-1])  # the task, as the exports worker runs it
        job = ExportJob.objects.get(pk=enqueued[-1])
        pages.append(client.get(f"/staff/exports/{job.public_id}/download.csv"))
    pages.append(client.get("/staff/exports/"))
    pages.append(client.get("/staff/audit/", {"patient": marked.pk}))
    with django_capture_on_commit_callbacks(execute=True):
        pages.append(client.post("/staff/patients/new/", enrollment, follow=True))
    *_exports, invitation_id = enqueued
    send_invitation(invitation_id)  # the task, as a worker runs it
    [invitation] = mailoutbox
    link = next(w for w in invitation.body.split() if "/invitation/" in w)
    newcomer = Client()
    password = {"password1": "a-long-passphrase", "password2": "a-long-passphrase"}
    pages.append(newcomer.get(link.removeprefix("http://testserver"), follow=True))
    pages.append(newcomer.post("/invitation/", password, follow=True))

    assert [p.status_code for p in pages] == [200] * len(pages)
    assert Alert.objects.filter(patient=marked, action_note=note("ack")).count() == 3
    assert refused.status_code == 400 and note("staff").encode() in refused.content
    assert thread.messages.filter(is_staff_note=True, body=note("staff")).exists()
    assert Invitation.objects.get(id=invitation_id).used_at is not None
    assert_nothing_found(seen, mailoutbox, enqueued)


JSON = "application/json"


def test_the_api_leaves_no_health_data_behind(marked, clinician, mailoutbox, enqueued, seen):
    phone, staff = bearer(marked.user), bearer(clinician)
    phq9 = {"instrument": "phq9", "answers": PHQ9, "difficulty": 2}
    patient_api = f"/api/v1/patients/{marked.public_id}"

    posted = [
        phone.post("/api/v1/checkins/", checkin_values("api"), "application/json"),
        phone.post("/api/v1/assessments/", phq9, "application/json"),
    ]
    bad = checkin_values("api") | {"mood": 11}
    refused = phone.post("/api/v1/checkins/", bad, "application/json")
    reads = [phone.get(f"/api/v1/{what}/") for what in ("me", "checkins", "assessments")]
    reads += [
        staff.get("/api/v1/patients/"),
        staff.get(f"{patient_api}/trends/", {"days": 30}),
        staff.get(f"{patient_api}/fhir/"),
        staff.get("/api/v1/sessions/", {"patient": marked.public_id}),
        staff.get("/api/v1/alerts/", {"patient": marked.public_id}),
    ]
    ack = {"action": "other", "note": note("api-ack")}
    acks = [
        staff.post(f"/api/v1/alerts/{alert.pk}/acknowledge/", ack, "application/json")
        for alert in Alert.objects.filter(patient=marked)
    ]

    # Messages, both sides: an urgent start, replies, a staff note, reads, a refusal.
    words = {"subject": note("api-subject"), "body": note("api-message"), "urgent": True}
    started = phone.post("/api/v1/messages/", words, "application/json")
    thread = f"/api/v1/messages/{started.json()['thread']['id']}"
    messages = [
        started,
        phone.post(f"{thread}/replies/", {"body": note("api-again"), "urgent": False}, JSON),
        staff.post(f"{thread}/replies/", {"body": note("api-staff-reply")}, JSON),
        staff.post(f"{thread}/notes/", {"body": note("api-staff-note")}, JSON),
    ]
    too_long = {"subject": note("api-s"), "body": note("api-long") + "x" * 2000, "urgent": False}
    refused_message = phone.post("/api/v1/messages/", too_long, JSON)
    message_reads = [
        phone.get("/api/v1/messages/"),
        phone.get(f"{thread}/"),
        staff.get("/api/v1/messages/", {"patient": marked.public_id, "unread": "true"}),
        staff.get(f"{thread}/"),
        staff.get(f"{patient_api}/fhir/"),
    ]

    assert [r.status_code for r in posted] == [201, 201] and refused.status_code == 400
    assert {r.status_code for r in reads + acks} == {200} and len(acks) == 2
    assert [r.status_code for r in messages] == [201] * 4 and refused_message.status_code == 400
    assert {r.status_code for r in message_reads} == {200}
    assert note("api-staff-note").encode() in message_reads[3].content
    assert Alert.objects.filter(patient=marked, kind="message_urgent").count() == 1
    assert_nothing_found(seen, mailoutbox, enqueued)


def test_tasks_and_emails_leave_no_health_data_behind(
    marked, clinician, mailoutbox, sms_outbox, enqueued, django_capture_on_commit_callbacks, seen
):
    plant_record(marked, now=MIDNIGHT - timedelta(hours=3))  # the evening before
    # Every reminder by text too: the texts' words and the logs of sending them are checked.
    marked.may_text = True
    marked.save(update_fields=["may_text"])
    ReminderPreference.objects.filter(patient=marked).update(
        text_kinds=[str(kind) for kind in Delivery.TEXT_KINDS]
    )
    for day in (5, 6):  # "session tomorrow"; a questionnaire in the 48 hours before
        at = datetime(2026, 5, day, 14, 0, tzinfo=UTC)
        TreatmentSession.objects.create(
            patient=marked, scheduled_at=at, route="iv", **session_values(f"may{day}")
        )
    # Held the day before (marked notes): its reflection prompt goes at 19:00 today.
    TreatmentSession.objects.create(
        patient=marked,
        scheduled_at=datetime(2026, 5, 3, 14, 0, tzinfo=UTC),
        route="iv",
        status="completed",
        **session_values("held"),
    )

    # A message the care team has not opened (its notice to them), and a reply the patient
    # has not read (its notice to the patient): neither notice may carry a word of them.
    written = MIDNIGHT - timedelta(hours=1)
    message_thread_start(
        patient=marked, subject=note("thread-a"), body=note("msg-a"), urgent=False, now=written
    )
    replied = message_thread_start(
        patient=marked, subject=note("thread-b"), body=note("msg-b"), urgent=False, now=written
    ).message.thread
    message_thread_read(thread=replied, by=clinician, now=written)
    message_post(thread=replied, by=clinician, body=note("reply-b"), now=written)

    sent = 0
    for step in range(48):  # the dispatcher's ticks over one day, each due e-mail sent
        with time_machine.travel(MIDNIGHT + timedelta(minutes=30 * step), tick=False):
            with django_capture_on_commit_callbacks(execute=True):
                dispatch_reminders()
                run_alert_rules()
            for delivery_id in enqueued[sent:]:
                send_delivery.apply(args=[delivery_id])  # through Celery's own task tracing
            sent = len(enqueued)
    # The patient follows the check-in link of the reminder and writes a note.
    [reminder] = [m for m in mailoutbox if "/r/checkin/" in m.body]
    link = next(w for w in reminder.body.split() if "/r/checkin/" in w)
    phone, form = Client(), checkin_values("link") | {"has_self_harm_thoughts": "yes"}
    with time_machine.travel(MIDNIGHT + timedelta(hours=23), tick=False):
        assert phone.get(link.removeprefix("http://testserver"), follow=True).status_code == 200
        assert phone.post("/r/checkin/", form, follow=True).status_code == 200

    kinds = {d.kind for d in Delivery.objects.filter(status="sent", channel="email")}
    assert kinds == set(Delivery.Kind.values)  # every kind of e-mail, patients' and staff's
    texted = {d.kind for d in Delivery.objects.filter(status="sent", channel="text")}
    # Every kind of text, but the notice of the reply written at 23:00: it waits for 08:00.
    assert texted == set(Delivery.TEXT_KINDS) - {Delivery.Kind.MESSAGE}
    waiting = Delivery.objects.get(channel="text", status="pending")
    assert (waiting.kind, waiting.next_attempt_at) == ("message", MIDNIGHT + timedelta(hours=8))
    made = Delivery.objects.exclude(status="skipped")
    assert len(mailoutbox) + len(sms_outbox) + 1 == made.count() == len(enqueued)
    assert len(sms_outbox) == made.filter(channel="text", status="sent").count()
    assert not [text.body for text in sms_outbox if leaks(text.body)]
    # Reminders of the sessions whose time had passed before the first tick: on record, unsent.
    for skipped in Delivery.objects.filter(status="skipped"):
        assert skipped.skip_reason == "too_late" and skipped.due_at < MIDNIGHT, skipped
    assert marked.checkins.filter(note=note("link")).exists()
    assert_nothing_found(seen, mailoutbox, enqueued)


def test_failing_tasks_and_deliveries_leave_no_health_data_behind(
    marked, mailoutbox, enqueued, django_capture_on_commit_callbacks, monkeypatch, seen
):
    plant_record(marked, now=MIDNIGHT - timedelta(hours=3))
    reminder_at = MIDNIGHT + timedelta(hours=19)
    with django_capture_on_commit_callbacks(execute=True):
        checkin_reminders_dispatch(now=reminder_at)
    [delivery_id] = enqueued
    refusals = [smtplib.SMTPServerDisconnected("Connection unexpectedly closed")]
    refusals += [smtplib.SMTPRecipientsRefused({marked.user.email: (550, b"5.1.1 Unknown")})]

    def refuse(mailer, messages):
        raise refusals.pop(0)

    def bad_row(*args, now, **kwargs):  # a bug: a task writes a row the database refuses
        validation_gap(patient=marked, values=checkin_values("task"), client_id=None, now=now)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse)
    for minutes in (0, 5):  # deferred (its row waits out the backoff), then refused for good
        deliveries_age(timedelta(minutes=minutes))  # the backoff, by the database's clock
        with time_machine.travel(reminder_at + timedelta(minutes=minutes), tick=False):
            send_delivery.apply(args=[delivery_id])
    monkeypatch.setattr("care.tasks.daily_alerts_run_all", bad_row)
    monkeypatch.setattr("notifications.tasks.heartbeats_record", bad_row)
    failed = [run_alert_rules.apply(), dispatch_reminders.apply()]

    assert Delivery.objects.get(id=delivery_id).status == "failed"
    assert Alert.objects.filter(patient=marked, kind="delivery_failure").exists()
    assert [result.failed() for result in failed] == [True, True]
    logged = " ".join(message for _, message, _ in seen["logs"])
    deferred = "deferred (attempt 1): SMTPServerDisconnected"
    for line in (deferred, "raised unexpected", "A reminder dispatch step failed"):
        assert line in logged, line
    assert_nothing_found(seen, mailoutbox, enqueued)


def test_error_paths_leave_no_health_data_behind(
    marked, clinician, mailoutbox, enqueued, monkeypatch, seen
):
    session = plant_record(marked, now=timezone.now() - timedelta(days=1))
    alert = Alert.objects.filter(patient=marked).first()
    patient, staff = Client(raise_request_exception=False), Client(raise_request_exception=False)
    token = {"email": marked.user.email, "password": "nope", "name": note("token")}
    wrong = [
        patient.post("/accounts/login/", {"login": marked.user.email, "password": "nope"}),
        staff.post("/accounts/login/", {"login": clinician.email, "password": PASSWORD}),
        staff.post("/accounts/2fa/authenticate/", {"code": "000000"}),
        patient.post("/api/v1/auth/tokens/", token, "application/json"),
    ]
    assert sign_in(patient, marked.user).status_code == sign_in(staff, clinician).status_code == 302
    monkeypatch.setattr("care.records.views.checkin_submit", deadlock)
    monkeypatch.setattr("care.treatment.views.session_record", deadlock)
    monkeypatch.setattr("care.api.views.checkin_submit", validation_gap)
    phone = bearer(marked.user, raise_request_exception=False)
    form = checkin_values("crash") | {"has_self_harm_thoughts": "yes"}
    record = record_form("crash", systolic=120)
    responses = {
        400: [
            phone.post("/api/v1/checkins/", form | {"sleep_hours": -3}, "application/json"),
            staff.post(f"/staff/alerts/{alert.pk}/acknowledge/", {"note": note("no-action")}),
        ],
        404: [
            staff.get(f"/staff/patients/{uuid.uuid4()}/"),
            patient.get(f"/me/results/{uuid.uuid4()}/"),
            phone.get(f"/api/v1/assessments/{uuid.uuid4()}/"),
            patient.get("/staff/patients/"),
        ],
        500: [
            patient.post("/me/checkin/", form),
            phone.post("/api/v1/checkins/", form, "application/json"),  # the database refuses
            staff.post(f"/staff/sessions/{session.pk}/record/", record),
        ],
    }

    assert [r.status_code for r in wrong] == [200, 302, 200, 400]
    assert [{r.status_code for r in rs} for rs in responses.values()] == [{400}, {404}, {500}]
    assert not leaks(b"".join(r.content for r in responses[500]).decode())  # generic pages
    logged = " ".join(message for _, message, _ in seen["logs"])
    for line in ("Bad Request", "Not Found", "Internal Server Error", "AXES: Repeated login"):
        assert line in logged, line
    assert_nothing_found(seen, mailoutbox, enqueued)
