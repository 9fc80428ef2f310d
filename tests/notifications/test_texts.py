"""Reminders by text message: the patient's choice, the rows the dispatcher makes beside the
e-mails, the text hours, the words (one GSM-7 segment, nothing revealing), the short
single-use link, sending through the provider layer, and what a failure does."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import signing
from django.test import override_settings
from django.urls import reverse

from care.models import Alert, TreatmentSession
from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.dispatch.sessions import booked_session_reminders_dispatch
from notifications.models import Delivery, ReminderPreference, TextNumberBlock
from notifications.schedule import text_send_at
from notifications.sending import MAX_ATTEMPTS, delivery_send
from notifications.sms import backends as sms_backends
from notifications.sms import encoding_and_segments
from notifications.sms.backends import PermanentTextError, TransientTextError
from notifications.textreplies import text_status_receive
from notifications.texts import read_text_link_code, text_body, text_link_code
from tests.factories import PatientFactory
from tests.notifications.test_checkin_link import answers
from tests.notifications.test_email_privacy import FORBIDDEN

pytestmark = pytest.mark.django_db

NINE_NY = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)  # 09:00 in New York (EDT)
MOBILE = "+12125550142"


@pytest.fixture
def outbox():
    sms_backends.outbox.clear()
    yield sms_backends.outbox
    sms_backends.outbox.clear()


@pytest.fixture
def texter(clinic):
    clinic.name = "Riverside Ketamine Wellness Clinic"  # the clinic's name reveals the care
    clinic.email_sender_name = "Riverside Team"
    clinic.save()
    patient = PatientFactory(
        clinic=clinic,
        tz="America/New_York",
        preferred_name="Jo",
        has_depression=True,
        phone_mobile=MOBILE,
        may_text=True,
    )
    ReminderPreference.objects.create(
        patient=patient, checkin_time=time(9, 0), text_kinds=["checkin_due"]
    )
    return patient


def _rows(patient):
    return {d.channel: d for d in Delivery.objects.filter(patient=patient)}


# The dispatcher: a text beside the e-mail, each on its own row.


def test_a_patient_who_takes_texts_gets_a_text_row_beside_the_email(texter):
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=2))

    rows = _rows(texter)
    assert set(rows) == {"email", "text"}
    text = rows["text"]
    assert (text.status, text.to_phone, text.to_email, text.due_at) == (
        "pending",
        MOBILE,
        "",
        NINE_NY,
    )
    assert text.next_attempt_at is None
    assert Delivery.objects.count() == 2  # once, however often the dispatcher runs


def test_with_emails_off_the_email_is_recorded_skipped_and_the_text_goes(texter):
    ReminderPreference.objects.filter(patient=texter).update(email_enabled=False)

    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))

    rows = _rows(texter)
    assert (rows["email"].status, rows["email"].skip_reason) == ("skipped", "email_off")
    assert rows["text"].status == "pending"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"may_text": False}, "no_text_consent"),
        ({"phone_mobile": ""}, "no_text_consent"),
    ],
)
def test_no_consent_or_no_mobile_records_the_text_skipped(texter, change, reason):
    for name, value in change.items():
        setattr(texter, name, value)
    texter.save()

    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))

    rows = _rows(texter)
    assert rows["email"].status == "pending"
    assert (rows["text"].status, rows["text"].skip_reason) == ("skipped", reason)


def test_a_stopped_number_records_the_text_skipped(texter):
    TextNumberBlock.objects.create(number=MOBILE, reason="stop", since=NINE_NY)

    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))

    assert _rows(texter)["text"].skip_reason == "text_stopped"


def test_an_early_reminder_waits_for_eight_oclock_for_its_text(texter, outbox):
    ReminderPreference.objects.filter(patient=texter).update(
        checkin_time=time(7, 0), quiet_end=time(6, 0)
    )
    seven = NINE_NY - timedelta(hours=2)

    checkin_reminders_dispatch(now=seven + timedelta(minutes=1))

    rows = _rows(texter)
    assert rows["email"].status == "pending"
    assert rows["text"].status == "pending"
    assert rows["text"].next_attempt_at == seven + timedelta(hours=1)
    # The sweeper sends it once its time has come (claims compare with the database's
    # clock, which a test cannot move: here only the send's own checks see `now`).
    assert delivery_send(delivery_id=rows["text"].id, now=seven + timedelta(hours=1)) == "sent"


def test_the_session_reminder_is_texted_when_chosen(texter, clinician):
    ReminderPreference.objects.filter(patient=texter).update(text_kinds=["session_tomorrow"])
    TreatmentSession.objects.create(
        patient=texter, scheduled_at=NINE_NY + timedelta(days=1, hours=1), route="iv"
    )

    booked_session_reminders_dispatch(now=NINE_NY + timedelta(hours=1))

    kinds = set(Delivery.objects.filter(patient=texter).values_list("kind", "channel"))
    assert ("session_tomorrow", "text") in kinds
    assert ("session_tomorrow", "email") in kinds


# Text hours (08:00-21:00 in the patient's zone, and the quiet hours), DST-exact.


@pytest.mark.parametrize(
    ("kind", "due_local", "quiet", "expected_local"),
    [
        ("checkin_due", "2026-05-04 09:00", (time(22), time(8)), "2026-05-04 09:00"),
        ("checkin_due", "2026-05-04 07:00", (time(22), time(6)), "2026-05-04 08:00"),
        ("checkin_due", "2026-05-04 07:00", (time(22), time(9)), "2026-05-04 09:00"),
        ("checkin_due", "2026-05-04 21:30", (time(23), time(6)), None),
        ("message", "2026-05-04 21:30", (time(23), time(6)), "2026-05-05 08:00"),
        ("message", "2026-05-04 20:59", (time(20, 30), time(8)), "2026-05-05 08:00"),
        ("integration_prompt", "2026-05-04 02:00", (time(0), time(0)), "2026-05-04 08:00"),
        # The clocks go forward at 02:00 on 8 March 2026 in New York: 08:00 is still 08:00.
        ("checkin_due", "2026-03-08 07:00", (time(22), time(6)), "2026-03-08 08:00"),
        # ... and back on 1 November: a quiet end at 01:30 happens twice; 08:00 once.
        ("message", "2026-11-01 01:10", (time(23), time(1, 30)), "2026-11-01 08:00"),
    ],
)
def test_texts_go_only_between_eight_and_nine_and_outside_quiet_hours(
    kind, due_local, quiet, expected_local
):
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York")
    due = datetime.fromisoformat(due_local).replace(tzinfo=zone)

    at = text_send_at(
        kind=kind, due=due, tz="America/New_York", quiet_start=quiet[0], quiet_end=quiet[1]
    )

    if expected_local is None:
        assert at is None
    else:
        assert at.astimezone(zone).strftime("%Y-%m-%d %H:%M") == expected_local


# The words and the link.


@pytest.mark.parametrize(
    "kind",
    ["checkin_due", "questionnaire_due", "session_tomorrow", "message", "integration_prompt"],
)
@pytest.mark.parametrize(
    "sender",
    ["Riverside Team", "Clínica Señora Ñúñez del Río Mental Health and Wellbeing Team Øresund"],
)
def test_every_text_kind_is_one_gsm7_segment_with_no_health_word(texter, kind, sender):
    texter.clinic.email_sender_name = sender
    texter.clinic.save()
    session = TreatmentSession.objects.create(
        patient=texter, scheduled_at=NINE_NY + timedelta(days=1), route="iv"
    )
    delivery = Delivery.objects.create(
        kind=kind,
        subject_key=f"test:{kind}",
        due_at=NINE_NY,
        patient=texter,
        session=session,
        channel="text",
        to_phone=MOBILE,
    )

    body = text_body(delivery, session=session)

    assert encoding_and_segments(body) == ("GSM-7", 1), body
    assert len(body) <= 160
    assert body.endswith("Reply STOP to end texts")
    assert f"/t/{text_link_code(delivery_id=delivery.id)}/" in body
    lowered = body.lower()
    assert not [word for word in FORBIDDEN if word in lowered], body
    assert "jo" not in lowered.split()  # no first name on a lock screen


def test_the_link_code_names_its_delivery_and_refuses_any_other():
    code = text_link_code(delivery_id=12345)

    assert read_text_link_code(code) == 12345
    for bad in (
        code[:-1] + ("a" if code[-1] != "a" else "b"),
        "9iy-" + code.split("-")[1],  # 12345 is 9ix in base 36
        "x",
        "",
    ):
        with pytest.raises(signing.BadSignature):
            read_text_link_code(bad)


def test_the_texts_link_opens_todays_checkin_once(client, texter, outbox):
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
    text = _rows(texter)["text"]
    url = reverse("notifications:text-link", args=[text_link_code(delivery_id=text.id)])

    import time_machine

    with time_machine.travel(NINE_NY + timedelta(minutes=5), tick=False):
        opened = client.get(url)
        assert opened.status_code == 302
        form = client.get(opened["Location"])
        assert form.status_code == 200
        saved = client.post(opened["Location"], answers())
        again = client.get(client.get(url)["Location"])

    assert "your check-in is saved" in saved.content.decode()
    text.refresh_from_db()
    assert text.link_used_at is not None
    assert again.status_code == 410


# Sending.


def test_a_text_is_sent_through_the_backend_and_recorded(texter, outbox):
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
    text = _rows(texter)["text"]

    assert delivery_send(delivery_id=text.id, now=NINE_NY + timedelta(minutes=1)) == "sent"

    [sent] = outbox
    assert sent.to == MOBILE
    assert "Reply STOP" in sent.body
    callback = reverse("notifications:text-status") + f"?delivery={text.id}"
    assert sent.status_callback.endswith(callback)
    text.refresh_from_db()
    assert (text.status, text.encoding, text.segments) == ("sent", "GSM-7", 1)
    assert text.provider_id


class _Refusing:
    def __init__(self, error):
        self.error = error

    def send(self, text):
        raise self.error


def test_a_permanent_refusal_fails_the_text_alerts_and_stops_the_number(texter, monkeypatch):
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
    text = _rows(texter)["text"]
    error = PermanentTextError("permanent: twilio 21211 invalid number", code=21211)
    monkeypatch.setattr("notifications.sending.get_text_backend", lambda: _Refusing(error))

    assert delivery_send(delivery_id=text.id, now=NINE_NY) == "failed"

    text.refresh_from_db()
    assert text.last_error == "permanent: twilio 21211 invalid number"
    alert = Alert.objects.get(patient=texter, kind="delivery_failure")
    assert "text could not be delivered" in alert.reason
    assert "mobile number" in alert.reason
    block = TextNumberBlock.objects.get(number=MOBILE)
    assert (block.reason, block.error_code) == ("failed", 21211)
    # The next day's text is recorded skipped; the e-mail still goes.
    checkin_reminders_dispatch(now=NINE_NY + timedelta(days=1, minutes=1))
    tomorrow = Delivery.objects.filter(patient=texter, day=date(2026, 5, 5))
    assert {(d.channel, d.status) for d in tomorrow} == {("email", "pending"), ("text", "skipped")}


def test_a_transient_refusal_defers_the_text_with_the_backoff(texter, monkeypatch):
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
    text = _rows(texter)["text"]
    error = TransientTextError("transient: twilio 429 too many requests", code=20429)
    monkeypatch.setattr("notifications.sending.get_text_backend", lambda: _Refusing(error))

    assert delivery_send(delivery_id=text.id, now=NINE_NY) == "deferred"

    text.refresh_from_db()
    assert (text.status, text.attempts) == ("pending", 1)
    assert text.next_attempt_at is not None
    assert not TextNumberBlock.objects.exists()


class _ReportedThenLost:
    """The provider takes the text and its status report ("queued", naming the delivery)
    reaches us, but the answer to the sender is lost (a read timeout)."""

    def __init__(self, delivery_id):
        self.delivery_id = delivery_id

    def send(self, text):
        assert text_status_receive(
            provider_id="SM0123", status="queued", error_code=None, now=NINE_NY,
            delivery_id=self.delivery_id,
        )  # fmt: skip
        raise TransientTextError("transient: twilio ReadTimeout")


@pytest.mark.parametrize("tries_before", [0, MAX_ATTEMPTS - 1])
def test_a_lost_answer_after_the_providers_report_leaves_the_text_sent(
    texter, monkeypatch, tries_before
):
    """The report recorded the text sent: the sender's error must neither defer it (the
    sweeper would send it again) nor, at its last try, fail it and alert."""
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
    text = _rows(texter)["text"]
    Delivery.objects.filter(id=text.id).update(attempts=tries_before)
    monkeypatch.setattr(
        "notifications.sending.get_text_backend", lambda: _ReportedThenLost(text.id)
    )

    assert delivery_send(delivery_id=text.id, now=NINE_NY) == "sent"

    text.refresh_from_db()
    assert (text.status, text.provider_id, text.attempts) == ("sent", "SM0123", tries_before + 1)
    assert (text.next_attempt_at, text.last_error, text.lease_until) == (None, "", None)
    assert not Alert.objects.exists()


def test_a_text_whose_number_changed_meanwhile_is_skipped(texter, outbox):
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
    text = _rows(texter)["text"]
    texter.phone_mobile = "+12125550199"
    texter.save()

    assert delivery_send(delivery_id=text.id, now=NINE_NY) == "skipped"
    text.refresh_from_db()
    assert text.skip_reason == "no_text_consent"
    assert outbox == []


def test_a_text_deferred_past_nine_in_the_evening_is_skipped(texter, outbox):
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
    text = _rows(texter)["text"]

    late = NINE_NY + timedelta(hours=12, minutes=5)  # 21:05 in New York
    assert delivery_send(delivery_id=text.id, now=late) == "skipped"
    text.refresh_from_db()
    assert text.skip_reason == "text_hours"


@override_settings(SMS_URL="locmem://")
def test_the_email_of_the_same_reminder_is_unchanged(texter, mailoutbox, outbox):
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
    email = _rows(texter)["email"]

    assert delivery_send(delivery_id=email.id, now=NINE_NY) == "sent"
    assert len(mailoutbox) == 1 and outbox == []


@override_settings(SMS_URL="")
def test_an_installation_without_texts_offers_none_and_makes_none(client, texter):
    ReminderPreference.objects.filter(patient=texter).update(email_enabled=False)
    client.force_login(texter.user)

    page = client.get(reverse("notifications:settings")).content.decode()
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))

    assert "Text me about" not in page
    # The e-mail settings alone count: e-mails off, so nothing goes.
    assert {(d.channel, d.status, d.skip_reason) for d in Delivery.objects.all()} == {
        ("email", "skipped", "email_off")
    }
    # A text made before SMS_URL was emptied is recorded skipped when its time comes.
    with override_settings(SMS_URL="locmem://"):
        checkin_reminders_dispatch(now=NINE_NY + timedelta(days=1, minutes=1))
    text = Delivery.objects.get(channel="text")
    assert delivery_send(delivery_id=text.id, now=NINE_NY + timedelta(days=1)) == "skipped"
    text.refresh_from_db()
    assert text.skip_reason == "texts_off"


def _settings_form(**overrides):
    data = {
        "email_enabled": "on",
        "checkin_time": "19:00",
        "quiet_start": "22:00",
        "quiet_end": "08:00",
        "kinds": ["checkin_due", "questionnaire_due", "session_tomorrow"],
        "text_kinds": ["checkin_due"],
    }
    return data | overrides


def test_the_patient_turns_texts_on_with_their_consent(client, clinic):
    from care.models import AuditEvent

    patient = PatientFactory(clinic=clinic, phone_mobile=MOBILE, may_text=False)
    ReminderPreference.objects.create(patient=patient)
    client.force_login(patient.user)
    url = reverse("notifications:settings")

    asked = client.post(url, _settings_form())
    assert "agree to receive text messages" in asked.content.decode()
    assert "at (212) 555-0142" in asked.content.decode()
    assert ReminderPreference.objects.get(patient=patient).text_kinds == []

    saved = client.post(url, _settings_form(text_consent="on"))

    assert saved.status_code == 302
    patient.refresh_from_db()
    assert patient.may_text
    assert ReminderPreference.objects.get(patient=patient).text_kinds == ["checkin_due"]
    assert AuditEvent.objects.filter(patient=patient, what="contact", action="changed").exists()


def test_texts_need_a_mobile_number_first(client, clinic):
    patient = PatientFactory(clinic=clinic, phone_mobile="", may_text=False)
    ReminderPreference.objects.create(patient=patient)
    client.force_login(patient.user)

    page = client.get(reverse("notifications:settings")).content.decode()
    refused = client.post(reverse("notifications:settings"), _settings_form())

    assert "add your mobile number" in page
    assert "Add your mobile number in your contact details first." in refused.content.decode()
    assert ReminderPreference.objects.get(patient=patient).text_kinds == []


def test_the_api_takes_text_kinds_with_consent(client, clinic):
    patient = PatientFactory(clinic=clinic, phone_mobile=MOBILE, may_text=False)
    ReminderPreference.objects.create(patient=patient)
    client.force_login(patient.user)
    body = {
        "email_enabled": True,
        "checkin_time": "19:00",
        "quiet_start": "22:00",
        "quiet_end": "08:00",
        "text_kinds": ["checkin_due", "message"],
    }

    refused = client.put(reverse("api:reminder-preferences"), body, content_type="application/json")
    accepted = client.put(
        reverse("api:reminder-preferences"),
        body | {"text_consent": True},
        content_type="application/json",
    )

    assert refused.status_code == 400 and "text_consent" in refused.json()["errors"]
    assert accepted.status_code == 200
    assert accepted.json()["text_kinds"] == ["checkin_due", "message"]
    assert accepted.json()["text_state"] == "ok"


def test_a_text_sent_outside_its_hours_waits_for_them_without_using_a_try(texter, outbox):
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
    text = _rows(texter)["text"]
    ReminderPreference.objects.filter(patient=texter).update(quiet_end=time(10, 30))

    # 09:00 is now in quiet hours: the text waits for their end, the same day.
    assert delivery_send(delivery_id=text.id, now=NINE_NY) == "waits for text hours"

    text.refresh_from_db()
    assert (text.status, text.attempts) == ("pending", 0)
    assert text.next_attempt_at == NINE_NY + timedelta(hours=1, minutes=30)
    assert outbox == []


def test_a_patient_without_reminder_settings_gets_no_session_reminder(clinic):
    patient = PatientFactory(clinic=clinic, tz="America/New_York")  # no ReminderPreference
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=NINE_NY + timedelta(days=1, hours=1), route="iv"
    )

    booked_session_reminders_dispatch(now=NINE_NY + timedelta(hours=1))

    assert not Delivery.objects.filter(patient=patient).exists()


# What a review found: e-mail settings must not decide a text's fate, nor a passing error
# block a number for good, nor a late answer undo the provider's report.


def test_with_emails_off_the_session_text_is_still_sent(texter, outbox):
    ReminderPreference.objects.filter(patient=texter).update(
        email_enabled=False, text_kinds=["session_tomorrow"]
    )
    TreatmentSession.objects.create(
        patient=texter, scheduled_at=NINE_NY + timedelta(days=1, hours=1), route="iv"
    )
    booked_session_reminders_dispatch(now=NINE_NY + timedelta(hours=1))
    text = Delivery.objects.get(patient=texter, kind="session_tomorrow", channel="text")

    outcome = delivery_send(delivery_id=text.id, now=max(text.due_at, NINE_NY + timedelta(hours=1)))

    assert outcome == "sent", Delivery.objects.get(pk=text.pk).skip_reason
    assert len(outbox) == 1


def test_a_reflection_text_after_the_72_hours_is_skipped_even_with_emails_off(texter, outbox):
    ReminderPreference.objects.filter(patient=texter).update(
        email_enabled=False, text_kinds=["integration_prompt"]
    )
    session = TreatmentSession.objects.create(
        patient=texter, scheduled_at=NINE_NY - timedelta(days=4), route="iv", status="completed"
    )
    text = Delivery.objects.create(
        kind="integration_prompt",
        subject_key=f"integration:{session.pk}",
        due_at=NINE_NY - timedelta(hours=1),
        patient=texter,
        session=session,
        channel="text",
        to_phone=MOBILE,
    )

    assert delivery_send(delivery_id=text.id, now=NINE_NY) == "skipped"
    text.refresh_from_db()
    assert text.skip_reason == "window_passed"


def test_a_refusal_that_is_not_the_numbers_fault_blocks_nothing(texter, monkeypatch):
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
    text = _rows(texter)["text"]
    error = PermanentTextError("permanent: twilio 21408 region not enabled", code=21408)
    monkeypatch.setattr("notifications.sending.get_text_backend", lambda: _Refusing(error))

    assert delivery_send(delivery_id=text.id, now=NINE_NY) == "failed"
    assert not TextNumberBlock.objects.exists()


class _ReportFirst:
    """A provider whose status report (undelivered) reaches us before its answer."""

    def __init__(self, delivery_id):
        self.delivery_id = delivery_id

    def send(self, text):
        from notifications.sms import SentText
        from notifications.textreplies import text_status_receive

        Delivery.objects.filter(pk=self.delivery_id).update(provider_id="SMfast")
        text_status_receive(
            provider_id="SMfast", status="undelivered", error_code=30003, now=NINE_NY
        )
        return SentText(provider_id="SMfast", status="queued")


def test_the_senders_late_answer_does_not_undo_the_providers_report(texter, monkeypatch):
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
    text = _rows(texter)["text"]
    monkeypatch.setattr("notifications.sending.get_text_backend", lambda: _ReportFirst(text.id))

    delivery_send(delivery_id=text.id, now=NINE_NY)

    text.refresh_from_db()
    assert (text.status, text.provider_status) == ("failed", "undelivered")
    assert Alert.objects.filter(patient=texter, kind="delivery_failure").count() == 1
    # 30003 (a phone switched off) fails this text but does not stop texts to the number.
    assert not TextNumberBlock.objects.exists()
