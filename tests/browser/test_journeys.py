"""Whole journeys in a real browser against the live server: patients on a phone
(390 x 844), clinicians at a desktop (1440 x 900).

Every page a journey reaches is a `step`: axe-core finds no serious or critical violation,
the browser has logged no console error and no CSP violation, and a full-page screenshot goes
to var/screenshots/ (kept out of git). E-mails are sent by the code the Celery workers run
(the tasks called in this process) into Django's test outbox; the journey opens them in the
browser and follows their links.
"""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from care.models import Alert, Assessment, CheckIn, Patient, TreatmentSession
from care.tasks import send_invitation
from notifications.dispatch.messages import message_notices_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.sms.backends import parse_text_file
from notifications.tasks import dispatch_reminders, send_delivery
from tests.browser.signin import sign_in, staff_sign_in
from tests.factories import ClinicFactory, PatientFactory, StaffFactory, build_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE, DESKTOP = (390, 844), (1440, 900)


@pytest.fixture
def base(live_server, settings):
    """The live server's address, also the one e-mailed links point at."""
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def clinic(db):
    return ClinicFactory(
        name="Riverside Wellness",
        email_sender_name="Riverside Care Team",
        tz="America/New_York",
        on_call_email="on-call@riverside.example",
    )


def follow(page, target) -> None:
    """Click a link or button that loads a page (a selector or a locator), and wait until
    the new page has loaded: what follows reads the new page, never the old one."""
    with page.expect_navigation():
        (page.locator(target) if isinstance(target, str) else target).click()


def open_email(page, message, step, name):
    """Show an e-mail's HTML part in the browser, as a mail app would (in a blank document,
    which has no Content-Security-Policy: e-mails style with attributes)."""
    html = next(body for body, kind in message.alternatives if kind == "text/html")
    page.goto("about:blank")
    page.set_content(html)
    step(page, name)


def daytime_zone(now) -> str:
    """A zone where it is now between 09:00 and 20:00: a reminder chosen for a few minutes ago
    is due, outside the default quiet hours, and its link works until local midnight."""
    for name in ["America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Europe/London"]:
        if 9 <= now.astimezone(ZoneInfo(name)).hour < 20:
            return name
    for name in ["Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney"]:
        if 9 <= now.astimezone(ZoneInfo(name)).hour < 20:
            return name
    raise AssertionError("no zone in daytime")  # the zones above cover every hour


def twelve_hour(moment, tz: str) -> str:
    """'November 26, 2026, 7:35 PM': how the patient's pages write a moment, in `tz`."""
    local = moment.astimezone(ZoneInfo(tz))
    return f"{local:%B} {local.day}, {local.year}, {local.hour % 12 or 12}:{local:%M %p}"


def daily_reminder(patient, enqueued, mailoutbox):
    """Today's daily check-in reminder for `patient`, due now, through the dispatcher and the
    send task that beat and the workers run; returns the e-mail sent."""
    local_now = timezone.now().astimezone(ZoneInfo(patient.tz))
    ReminderPreference.objects.update_or_create(
        patient=patient,
        defaults={"checkin_time": (local_now - timedelta(minutes=3)).time().replace(second=0)},
    )
    enqueued.clear()
    dispatch_reminders()  # beat's every-minute task; its batches run here (tests/conftest.py)
    delivery = Delivery.objects.get(patient=patient, kind=Delivery.Kind.CHECKIN)
    assert delivery.id in enqueued
    send_delivery(delivery.id)  # the worker's task
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    (message,) = [m for m in mailoutbox if m.to == [patient.user.email]]
    return message


def test_a_new_patient_accepts_the_invitation_checks_in_and_sees_their_first_phq9(
    base, clinic, new_page, step, mailoutbox, enqueued
):
    nurse = StaffFactory(clinic=clinic, user__full_name="Dana Whitfield", title="RN").user
    desk = new_page(*DESKTOP)
    staff_sign_in(desk, base, nurse.email, step, "a-01-staff-sign-in-code")
    step(desk, "a-02-staff-caseload-empty")
    assert "Enroll the first patient" in desk.inner_text("main")

    follow(desk, "main >> text=Enroll a patient")
    step(desk, "a-03-staff-enroll")
    desk.fill("#id_full_name", "Robin Alvarez")
    desk.fill("#id_preferred_name", "Robin")
    desk.fill("#id_email", "robin.alvarez@example.org")
    desk.fill("#id_date_of_birth", "1988-03-14")
    desk.check("input[name=conditions][value=depression]")
    desk.check("input[name=questionnaires][value=phq9]")
    desk.select_option("#id_primary_clinician", label="Dana Whitfield")
    follow(desk, "main button[type=submit]")
    assert "An invitation e-mail is on its way" in desk.inner_text("main")
    step(desk, "a-04-staff-patient-enrolled")

    # The worker sends the invitation queued after the enrollment's commit.
    (invitation_id,) = enqueued
    send_invitation(invitation_id)
    (invitation,) = mailoutbox
    assert invitation.to == ["robin.alvarez@example.org"]
    assert "ketamine" not in invitation.body.lower()

    phone = new_page(*PHONE)
    open_email(phone, invitation, step, "a-05-patient-invitation-email")
    follow(phone, "text=Set up your account")
    phone.wait_for_url(f"{base}/invitation/")
    assert "robin.alvarez@example.org" in phone.inner_text("main")
    step(phone, "a-06-patient-set-password")
    phone.fill("#id_password1", "short")
    phone.fill("#id_password2", "short")
    follow(phone, "main button[type=submit]")
    assert phone.locator(".form-errors").is_visible()
    step(phone, "a-07-patient-set-password-error")
    phone.fill("#id_password1", "river-stones-at-dawn")
    phone.fill("#id_password2", "river-stones-at-dawn")
    follow(phone, "main button[type=submit]")
    phone.wait_for_url(f"{base}/me/")

    # Signing out and in again with the new password.
    follow(phone, "header >> text=Sign out")
    step(phone, "a-08-patient-sign-in")
    sign_in(phone, base, "robin.alvarez@example.org", "river-stones-at-dawn")
    phone.wait_for_url(f"{base}/me/")
    assert "Hello, Robin" in phone.inner_text("main")
    step(phone, "a-09-patient-home-first-day")

    follow(phone, "text=Start today's check-in")
    step(phone, "a-10-patient-checkin")
    phone.check("input[name=mood][value='4']")
    phone.check("input[name=anxiety][value='6']")
    phone.check("input[name=energy][value='3']")
    phone.fill("input[name=sleep_hours]", "6")
    phone.check("input[name=sleep_quality][value='1']")
    phone.check("input[name=side_effects][value='nausea']")
    phone.check("input[name=has_self_harm_thoughts][value='no']")
    phone.fill("textarea[name=note]", "Slept badly before the first session.")
    follow(phone, "main button[type=submit]")
    assert "your check-in is saved" in phone.inner_text("main")
    step(phone, "a-11-patient-checkin-saved")

    follow(phone, "main >> text=Back to home")
    assert "Done for today" in phone.inner_text("main")
    follow(phone, "main a.button:has-text('PHQ-9')")
    step(phone, "a-12-patient-phq9")
    for number, value in enumerate([2, 1, 2, 1, 1, 1, 0, 1, 0], start=1):
        phone.check(f"input[name=item_{number}][value='{value}']")
    phone.check("input[name=difficulty][value='1']")
    follow(phone, "main button[type=submit]")
    main = phone.inner_text("main")
    assert "Your PHQ-9 result" in main and "9" in main and "Mild." in main
    assert phone.locator(".crisis-box").count() == 0
    step(phone, "a-13-patient-phq9-result")

    follow(phone, "main >> text=See my progress")
    phone.wait_for_function("document.querySelector('#chart-phq9')?.width > 0")
    step(phone, "a-14-patient-progress")
    assert CheckIn.objects.get(patient__user__email="robin.alvarez@example.org").mood == 4
    assert Assessment.objects.get(patient__user__email="robin.alvarez@example.org").total == 9


def test_item_9_shows_crisis_resources_and_the_clinician_acknowledges_the_alert(
    base, clinic, new_page, step
):
    nurse = StaffFactory(clinic=clinic, user__full_name="Dana Whitfield").user
    now = timezone.now()
    casey = PatientFactory(  # three hours behind the clinic
        clinic=clinic,
        user__full_name="Casey Morgan",
        preferred_name="Casey",
        primary_clinician=nurse,
        tz="America/Los_Angeles",
    )
    build_history(casey, 20, end=now)
    for name in ["Avery Adams", "Blake Brown"]:  # earlier by name; one with a high alert
        other = PatientFactory(clinic=clinic, user__full_name=name, primary_clinician=nurse)
        build_history(other, 20, end=now)
    Alert.objects.create(
        patient=Patient.objects.get(user__full_name="Avery Adams"),
        kind=Alert.Kind.WORSENING,
        priority=Alert.Priority.HIGH,
        cause="phq9:rise",
        reason="PHQ-9 rose from 9 to 15 (6 points since the previous score).",
        created_at=now - timedelta(hours=3),
    )

    phone = new_page(*PHONE)
    sign_in(phone, base, casey.user.email)
    phone.wait_for_url(f"{base}/me/")
    step(phone, "b-01-patient-home")
    phone.goto(f"{base}/me/questionnaires/phq9/")
    for number in range(1, 9):
        phone.check(f"input[name=item_{number}][value='1']")
    several_days = phone.locator("input[name=item_9][value='1']")
    assert phone.locator("label", has=several_days).inner_text().strip() == "Several days"
    several_days.check()
    follow(phone, "main button[type=submit]")
    crisis = phone.locator(".crisis-box")
    assert crisis.is_visible()
    assert crisis.bounding_box()["y"] < phone.locator("h1").bounding_box()["y"]
    assert crisis.locator("a[href='tel:988']").is_visible()
    assert crisis.locator("a[href='sms:988']").count() == 1
    assert "not watched around the clock" in crisis.inner_text()
    # Times as the patient lives them: their own zone, a 12-hour clock.
    completed = Assessment.objects.filter(patient=casey).latest("completed_at").completed_at
    assert f"Completed {twelve_hour(completed, casey.tz)}" in phone.inner_text("main")
    step(phone, "b-02-patient-result-crisis")

    desk = new_page(*DESKTOP)
    staff_sign_in(desk, base, nurse.email, step, "b-03-staff-sign-in-code")
    first_row = desk.locator("table.caseload tbody tr").first
    assert "Casey Morgan" in first_row.inner_text() and "Safety" in first_row.inner_text()
    assert "Avery Adams" in desk.locator("table.caseload tbody tr").nth(1).inner_text()
    step(desk, "b-04-staff-caseload-safety-first")

    follow(desk, first_row.locator("text=Casey Morgan"))
    alert = desk.locator("#alerts-heading + .alert-item")
    assert "Safety" in alert.inner_text() and "item 9" in alert.inner_text().lower()
    # Times as the clinic works: the clinic's zone, a 24-hour clock.
    raised = Alert.objects.get(patient=casey).created_at.astimezone(ZoneInfo(clinic.tz))
    assert f"raised {raised:%a}, {raised:%b} {raised.day}, {raised:%H:%M}" in alert.inner_text()
    step(desk, "b-05-staff-patient-open-alert")
    alert.locator("select[name=action]").select_option(label="Called the patient")
    alert.locator("input[name=note]").fill("Called; safe at home, safety plan reviewed.")
    follow(desk, alert.locator("button:has-text('Acknowledge')"))
    assert "Alert acknowledged." in desk.inner_text("main")
    assert "No open alerts." in desk.inner_text("section[aria-labelledby=alerts-heading]")
    step(desk, "b-06-staff-alert-acknowledged")

    safety = Alert.objects.get(patient=casey, kind=Alert.Kind.SAFETY)
    assert safety.acknowledged_by == nurse and safety.action == "called_patient"
    follow(desk, "header >> text=Alerts")
    assert "Casey Morgan" not in desk.inner_text("main")
    step(desk, "b-07-staff-alert-inbox")


def test_a_clinician_records_a_high_pre_dose_blood_pressure_and_sees_the_alert(
    base, clinic, new_page, step
):
    prescriber = StaffFactory(clinic=clinic, user__full_name="Sam Okafor", title="NP").user
    now = timezone.now()
    jordan = PatientFactory(
        clinic=clinic,
        user__full_name="Jordan Blake",
        preferred_name="Jordan",
        primary_clinician=prescriber,
    )
    build_history(jordan, 30, end=now)
    session = TreatmentSession.objects.create(
        patient=jordan, scheduled_at=now - timedelta(minutes=20), route="iv"
    )

    desk = new_page(*DESKTOP)
    staff_sign_in(desk, base, prescriber.email, step, "c-01-staff-sign-in-code")
    follow(desk, "table.caseload >> text=Jordan Blake")
    step(desk, "c-02-staff-patient")
    follow(desk, f"a[href='/staff/sessions/{session.id}/record/']")
    step(desk, "c-03-staff-session-record")
    desk.fill("#id_dose_mg_per_kg", "0.5")
    desk.fill("#id_bp_pre_systolic", "172")
    desk.fill("#id_bp_pre_diastolic", "104")
    desk.fill("#id_hr_pre", "88")
    follow(desk, "main button[type=submit]")
    warning = desk.get_by_role("alert").filter(
        has=desk.locator("strong", has_text="Blood pressure above the hold threshold")
    )
    assert warning.is_visible()
    assert "172/104" in warning.inner_text()
    step(desk, "c-04-staff-session-bp-warning")

    desk.check("#id_confirm_high_bp")
    follow(desk, "main button[type=submit]")
    desk.wait_for_url(f"{base}/staff/patients/{jordan.public_id}/")
    assert "A high alert was raised" in desk.inner_text(".messages")
    alert = desk.locator("#alerts-heading + .alert-item")
    assert "High blood pressure" in alert.inner_text() and "172/104" in alert.inner_text()
    step(desk, "c-05-staff-patient-high-bp-alert")

    follow(desk, "header >> text=Alerts")
    assert "High blood pressure" in desk.inner_text("main")
    step(desk, "c-06-staff-alert-inbox")
    session.refresh_from_db()
    assert session.status == "completed" and session.bp_pre_systolic == 172
    assert Alert.objects.get(patient=jordan).kind == Alert.Kind.HIGH_BP


def test_a_patient_checks_in_from_the_link_in_the_daily_reminder(
    base, clinic, new_page, step, mailoutbox, enqueued
):
    alex = PatientFactory(
        clinic=clinic,
        user__full_name="Alex Rivera",
        preferred_name="Alex",
        tz=daytime_zone(timezone.now()),
    )
    build_history(alex, 10, end=timezone.now() - timedelta(days=1))
    reminder = daily_reminder(alex, enqueued, mailoutbox)
    assert reminder.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    phone = new_page(*PHONE)
    open_email(phone, reminder, step, "d-01-patient-reminder-email")
    follow(phone, "text=Open my check-in")
    phone.wait_for_url(f"{base}/r/checkin/")
    step(phone, "d-02-patient-checkin-from-link")
    follow(phone, "main button[type=submit]")
    errors = phone.locator(".form-errors")
    assert errors.is_visible() and "Choose a number from 0 to 10." in errors.inner_text()
    step(phone, "d-03-patient-checkin-errors")
    phone.check("input[name=mood][value='6']")
    phone.check("input[name=anxiety][value='2']")
    phone.check("input[name=energy][value='7']")
    phone.fill("input[name=sleep_hours]", "7.5")
    phone.check("input[name=sleep_quality][value='3']")
    phone.check("input[name=has_self_harm_thoughts][value='no']")
    follow(phone, "main button[type=submit]")
    assert "your check-in is saved" in phone.inner_text("main")
    step(phone, "d-04-patient-checkin-saved")

    today = timezone.now().astimezone(ZoneInfo(alex.tz)).date()
    assert CheckIn.objects.get(patient=alex, local_date=today).mood == 6
    link = re.search(rf"{re.escape(base)}/r/checkin/\S+/", reminder.body).group(0)
    with phone.expect_console_message(lambda m: m.type == "error") as logged:
        phone.goto(link)  # the link works once
    assert "status of 410" in logged.value.text  # Chromium logs the page's own status
    phone.console_errors.remove(logged.value.text)
    assert "This link no longer works" in phone.inner_text("main")
    step(phone, "d-05-patient-link-used")


def test_a_patient_chooses_texts_and_checks_in_from_the_link_in_the_text(
    base, clinic, new_page, step, settings, tmp_path, enqueued
):
    """The daily reminder by text: chosen in Settings with consent, written by the file
    backend (SMS_URL=file://folder, as `./dev run` writes under var/sms/), its short link
    opened on the phone (not signed in: the text app opens the browser), once; and the
    clinic's Outbox showing the text beside the e-mail of the same reminder."""
    # The live server runs in this process: these settings hold for its requests too.
    settings.DEMO_MODE = True  # the Outbox exists only in debug or a declared demo
    settings.SMS_URL = f"file://{tmp_path / 'sms'}"
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path / "mail")},
        }
    }
    nurse = StaffFactory(clinic=clinic, user__full_name="Dana Whitfield", title="RN").user
    now = timezone.now()
    alex = PatientFactory(
        clinic=clinic,
        user__full_name="Alex Rivera",
        preferred_name="Alex",
        primary_clinician=nurse,
        tz=daytime_zone(now),
        phone_mobile="+12125550142",  # given in their contact details, no consent to texts yet
    )
    # Their reminder time was a few minutes ago: today's reminder is due once they save.
    local_now = now.astimezone(ZoneInfo(alex.tz))
    reminder_at = (local_now - timedelta(minutes=3)).time().replace(second=0, microsecond=0)
    ReminderPreference.objects.create(patient=alex, checkin_time=reminder_at)

    phone = new_page(*PHONE)
    sign_in(phone, base, alex.user.email)
    phone.wait_for_url(f"{base}/me/")
    follow(phone, "header >> text=Settings")
    phone.check("input[name=text_kinds][value=checkin_due]")
    phone.check("input[name=text_consent]")
    step(phone, "t-01-patient-settings-texts-chosen")
    follow(phone, "main button[type=submit]")
    assert "Reminder settings saved." in phone.inner_text("main")
    assert phone.is_checked("input[name=text_kinds][value=checkin_due]")
    assert phone.locator("input[name=text_consent]").count() == 0  # given: not asked again
    step(phone, "t-02-patient-settings-texts-saved")
    alex.refresh_from_db()
    assert alex.may_text
    assert ReminderPreference.objects.get(patient=alex).text_kinds == ["checkin_due"]

    # Beat's dispatcher makes the e-mail and the text; the workers send them.
    enqueued.clear()
    dispatch_reminders()
    rows = {d.channel: d for d in Delivery.objects.filter(patient=alex, kind="checkin_due")}
    assert set(rows) == {"email", "text"} and rows["text"].id in enqueued
    for delivery in rows.values():
        send_delivery(delivery.id)
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.SENT
    (written,) = (tmp_path / "sms").glob("*.txt")
    text = parse_text_file(written.read_text(encoding="utf-8"))
    assert text.to == "+12125550142" and text.body.endswith("Reply STOP to end texts")
    assert "Alex" not in text.body  # a lock screen shows it to whoever holds the phone
    link = re.search(rf"{re.escape(base)}/t/[0-9a-z]+-[0-9a-z]+/", text.body).group(0)

    reader = new_page(*PHONE)  # the browser the text app opens: not signed in
    reader.goto(link)
    reader.wait_for_url(f"{base}/r/checkin/")
    assert "Hi Alex, how has today been?" in reader.inner_text("main")
    step(reader, "t-03-patient-checkin-from-text")
    reader.check("input[name=mood][value='7']")
    reader.check("input[name=anxiety][value='3']")
    reader.check("input[name=energy][value='6']")
    reader.fill("input[name=sleep_hours]", "8")
    reader.check("input[name=sleep_quality][value='3']")
    reader.check("input[name=has_self_harm_thoughts][value='no']")
    follow(reader, "main button[type=submit]")
    assert "your check-in is saved" in reader.inner_text("main")
    step(reader, "t-04-patient-checkin-saved-from-text")
    today = timezone.now().astimezone(ZoneInfo(alex.tz)).date()
    assert CheckIn.objects.get(patient=alex, local_date=today).mood == 7
    rows["text"].refresh_from_db()
    assert rows["text"].link_used_at is not None
    with reader.expect_console_message(lambda m: m.type == "error") as logged:
        again = reader.goto(link)  # the link works once
    assert again.status == 410
    assert "status of 410" in logged.value.text  # Chromium logs the page's own status
    reader.console_errors.remove(logged.value.text)
    assert "This link no longer works" in reader.inner_text("main")
    step(reader, "t-05-patient-text-link-used")

    desk = new_page(*DESKTOP)
    staff_sign_in(desk, base, nurse.email)
    follow(desk, "header >> text=Outbox")
    texts = desk.locator("main .outbox-text")
    assert texts.count() == 1
    assert "(212) 555-0142" in texts.inner_text() and link in texts.inner_text()
    assert texts.locator(f"a[href='{link}']").count() == 1
    assert desk.locator("main .outbox-email").count() == 1  # the same reminder's e-mail
    step(desk, "t-06-staff-outbox-text-beside-email")


def test_a_patient_changes_reminder_settings_and_unsubscribes_from_one_kind(
    base, clinic, new_page, step, mailoutbox, enqueued
):
    jamie = PatientFactory(
        clinic=clinic,
        user__full_name="Jamie Chen",
        preferred_name="Jamie",
        tz=daytime_zone(timezone.now()),
    )
    reminder = daily_reminder(jamie, enqueued, mailoutbox)

    phone = new_page(*PHONE)
    sign_in(phone, base, jamie.user.email)
    follow(phone, "header >> text=Settings")
    step(phone, "e-01-patient-settings")
    phone.fill("#id_checkin_time", "20:30")
    phone.fill("#id_quiet_start", "21:30")
    phone.fill("#id_quiet_end", "07:00")
    phone.uncheck("input[name=kinds][value=session_tomorrow]")
    follow(phone, "main button[type=submit]")
    assert "Reminder settings saved." in phone.inner_text("main")
    step(phone, "e-02-patient-settings-saved")

    open_email(phone, reminder, step, "e-03-patient-reminder-email")
    follow(phone, "text=unsubscribe")
    assert "Stop these e-mails?" in phone.inner_text("main")
    step(phone, "e-04-patient-unsubscribe")
    follow(phone, "main button[type=submit]")
    assert "You are unsubscribed" in phone.inner_text("main")
    step(phone, "e-05-patient-unsubscribed")

    phone.goto(f"{base}/me/settings/")
    assert phone.input_value("#id_checkin_time") == "20:30"
    assert not phone.is_checked("input[name=kinds][value=checkin_due]")
    assert not phone.is_checked("input[name=kinds][value=session_tomorrow]")
    assert phone.is_checked("input[name=kinds][value=questionnaire_due]")
    step(phone, "e-06-patient-settings-after")
    preference = ReminderPreference.objects.get(patient=jamie)
    assert sorted(preference.unsubscribed) == ["checkin_due", "session_tomorrow"]
    assert preference.checkin_time.strftime("%H:%M") == "20:30"


def test_a_patient_writes_to_the_care_team_and_a_clinician_replies(
    base, clinic, new_page, step, mailoutbox
):
    clinic.phone = "+12125550100"
    clinic.after_hours_phone = "+12125550123"
    clinic.save()
    nurse = StaffFactory(clinic=clinic, user__full_name="Dana Whitfield").user
    robin = PatientFactory(
        clinic=clinic,
        user__full_name="Robin Alvarez",
        preferred_name="Robin",
        primary_clinician=nurse,
    )

    phone = new_page(*PHONE)
    sign_in(phone, base, robin.user.email)
    phone.wait_for_url(f"{base}/me/")
    follow(phone, "header >> text=Messages")
    step(phone, "m-01-patient-messages-empty")
    follow(phone, "text=Write to my care team")
    # Before the text box: when messages are read, and the crisis links.
    notice = phone.locator("section[aria-labelledby=reading-heading]")
    assert "during clinic hours" in notice.inner_text()
    assert notice.locator("a[href='tel:988']").is_visible()
    assert notice.bounding_box()["y"] < phone.locator("textarea").bounding_box()["y"]
    step(phone, "m-02-patient-compose")
    phone.fill("input[name=subject]", "Parking on session days")
    phone.fill("textarea[name=body]", "Is there parking at the clinic?\nI will come by car.")
    phone.check("input[name=urgent][value=no]")
    follow(phone, "main button[type=submit]")
    assert "Message sent." in phone.inner_text("main")
    step(phone, "m-03-patient-thread")

    desk = new_page(*DESKTOP)
    staff_sign_in(desk, base, nurse.email)
    row = desk.locator("table.caseload tbody tr", has_text="Robin Alvarez")
    assert "1 unread message" in row.inner_text()
    messages_link = desk.locator("header a", has_text="Messages").text_content()
    assert " ".join(messages_link.split()) == "Messages 1 unread"
    follow(desk, "header >> text=Messages")
    step(desk, "m-04-staff-inbox")
    follow(desk, "text=Parking on session days")
    assert "I will come by car." in desk.inner_text("main")
    step(desk, "m-05-staff-thread")
    desk.fill("textarea[name=body]", "Yes, free parking behind the building.")
    follow(desk, "button:has-text('Send to the patient')")
    desk.fill("textarea[name=note-body]", "Told about the back entrance.")
    follow(desk, "button:has-text('Save note')")
    desk.select_option("select[name=assigned_to]", label="Dana Whitfield")
    follow(desk, "button:has-text('Assign')")
    assert "Assigned to Dana Whitfield." in desk.inner_text("main")
    step(desk, "m-06-staff-thread-replied")
    follow(desk, "button:has-text('Mark handled')")
    step(desk, "m-07-staff-inbox-handled")

    follow(phone, "header >> text=Messages")
    assert "New reply" in phone.inner_text("main")
    step(phone, "m-08-patient-new-reply")
    # The patient is told by e-mail, without a word of the reply, and opens the thread from it.
    message_notices_dispatch(now=timezone.now())
    send_delivery(Delivery.objects.get(patient=robin, kind=Delivery.Kind.MESSAGE).id)
    (email,) = [m for m in mailoutbox if m.to == [robin.user.email]]
    words = (email.subject + email.body).lower()
    assert "parking" not in words and "dana" not in words and "whitfield" not in words
    open_email(phone, email, step, "m-08b-patient-notice-email")
    follow(phone, "text=Sign in to read it")
    assert re.search(r"/me/messages/[0-9a-f-]{36}/$", phone.url)
    text = phone.inner_text("main")
    assert "free parking behind the building" in text and "back entrance" not in text
    # An urgent reply: sent, the care team alerted, the crisis resources shown.
    phone.fill("textarea[name=body]", "I feel much worse tonight.")
    phone.check("input[name=urgent][value=yes]")
    follow(phone, "main button[type=submit]")
    assert phone.url == f"{base}/crisis/"
    assert "your care team has been alerted" in phone.inner_text("main")
    # The clinic's own lines come first, its after-hours line among them.
    assert phone.locator("main a[href='tel:+12125550123']").first.is_visible()
    step(phone, "m-09-patient-urgent-crisis")
    assert Alert.objects.get(patient=robin).kind == Alert.Kind.MESSAGE_URGENT


def test_booster_alert_adjusted_plan_booked_in_a_free_chair_patient_ready_by_email_link(
    base, new_page, step, mailoutbox, enqueued
):
    """Issue 21's journey: "Adjust plan" on a booster alert, the booster booked from the plan
    into the free chair, "My plan" with its preparation, the readiness check from the e-mail's
    link, and the day view showing "ready"."""
    from care.models import SessionReadiness, TreatmentPlanVersion
    from care.treatment.services import treatment_plan_version_create

    now = timezone.now()
    tz = daytime_zone(now)  # the reminder, at its time a few minutes ago, is due now
    every_day = [["08:00", "18:00"]]
    clinic = ClinicFactory(
        name="Riverside Wellness",
        email_sender_name="Riverside Care Team",
        tz=tz,
        treatment_chairs=2,
        session_minutes=120,
        opening_hours={d: every_day for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    )
    nurse = StaffFactory(clinic=clinic, user__full_name="Dana Whitfield", title="RN").user
    jordan = PatientFactory(
        clinic=clinic,
        user__full_name="Jordan Lee",
        user__email="jordan.lee@example.org",
        preferred_name="Jordan",
        primary_clinician=nurse,
        tz=tz,
    )
    # The induction held weeks ago; the plan's first version; the booster signal.
    for days_ago in (40, 38, 35, 33, 31, 28):
        TreatmentSession.objects.create(
            patient=jordan,
            scheduled_at=now - timedelta(days=days_ago),
            route="iv",
            status="completed",
            dose_mg_per_kg="0.50",
        )
    treatment_plan_version_create(
        patient=jordan,
        by=nurse,
        now=now - timedelta(days=41),
        values={
            "route": "iv",
            "induction_sessions": 6,
            "induction_weeks": 2,
            "target_dose_mg_per_kg": "0.50",
            "maintenance": "every_n_weeks",
            "maintenance_every_weeks": 6,
            "questionnaires": ["phq9"],
            "questionnaire_every_days": 14,
            "goals": "Enjoy walks again",
            "prescriber": nurse,
        },
        reason_code="",
        reason="",
    )
    booster = Alert.objects.create(
        patient=jordan,
        kind=Alert.Kind.BOOSTER_DUE,
        priority=Alert.Priority.ROUTINE,
        cause="booster:phq9",
        reason="PHQ-9 rising since the last session",
        created_at=now - timedelta(hours=2),
    )
    # Tomorrow at 10:00 at the clinic, chair 1 is taken by another patient.
    tomorrow = now.astimezone(ZoneInfo(tz)).date() + timedelta(days=1)
    ten = datetime.combine(tomorrow, time(10), tzinfo=ZoneInfo(tz))
    other = PatientFactory(clinic=clinic, preferred_name="Sam", tz=tz)
    TreatmentSession.objects.create(patient=other, scheduled_at=ten, route="iv", chair=1)

    # The clinician answers the alert with a change of plan.
    desk = new_page(*DESKTOP)
    staff_sign_in(desk, base, nurse.email)
    desk.goto(f"{base}/staff/alerts/")
    step(desk, "p-01-staff-alert-booster")
    follow(desk, "main >> text=Adjust plan")
    step(desk, "p-02-staff-plan-adjust")
    desk.fill("#id_maintenance_every_weeks", "4")
    desk.select_option("#id_reason_code", "booster_signal")
    desk.fill("#id_reason", "Mood slipping five weeks after the last infusion: boosters every 4.")
    follow(desk, "main button[type=submit]")
    booster.refresh_from_db()
    assert booster.acknowledged_at is not None and booster.action == "plan_adjusted"
    assert TreatmentPlanVersion.objects.filter(plan__patient=jordan).count() == 2

    # Booked from the plan, at 10:00 tomorrow: the free chair is chair 2.
    desk.goto(f"{base}/staff/patients/{jordan.public_id}/")
    follow(desk, "main >> text=Book from plan")
    step(desk, "p-03-staff-book-from-plan")
    desk.fill("#id_start_0", f"{tomorrow:%Y-%m-%d}T10:00")
    follow(desk, "main button:has-text('Book these sessions')")
    assert "booked from the plan" in desk.inner_text("main")
    booked = TreatmentSession.objects.get(patient=jordan, status="scheduled")
    assert booked.scheduled_at == ten and booked.chair == 2

    # The patient sees it under "My plan", with how to prepare.
    phone = new_page(*PHONE)
    sign_in(phone, base, "jordan.lee@example.org")
    phone.wait_for_url(f"{base}/me/")
    follow(phone, "header >> text=My plan")
    main = phone.inner_text("main")
    assert f"{ten:%A}, {ten:%B} {ten.day}, 10:00 AM" in main
    assert "Arrange a ride home" in main and "Enjoy walks again" in main
    assert "mg" not in main  # no dose shown to the patient
    step(phone, "p-04-patient-my-plan")

    # The evening before: "session tomorrow" with its readiness link.
    local_now = now.astimezone(ZoneInfo(tz))
    ReminderPreference.objects.update_or_create(
        patient=jordan,
        defaults={"checkin_time": (local_now - timedelta(minutes=3)).time().replace(second=0)},
    )
    dispatch_reminders()
    delivery = Delivery.objects.get(patient=jordan, kind=Delivery.Kind.SESSION)
    send_delivery(delivery.id)
    (email,) = [m for m in mailoutbox if "appointment tomorrow" in m.body]
    for word in ("ketamine", "infusion", "depression", "dose"):
        assert word not in email.body.lower()
    reader = new_page(*PHONE)  # the mail app: not signed in
    open_email(reader, email, step, "p-05-patient-reminder-email")
    follow(reader, "text=Tell us you are ready")
    step(reader, "p-06-patient-readiness-check")
    for name in ("ride_arranged", "fasting_understood", "feeling_well"):
        reader.check(f"input[name={name}][value=yes]")
    reader.check("input[name=new_medicines][value=no]")
    follow(reader, "main button[type=submit]")
    step(reader, "p-07-patient-readiness-saved")
    assert SessionReadiness.objects.get(session=booked).is_ready
    # The link was for one use: opened again, it is gone (asked outside the page, whose
    # console would log the 410).
    link = re.search(r"https?://\S+/r/ready/\S+/", email.body).group(0)
    assert reader.request.get(link).status == 410

    # The day view of tomorrow: chair 2 holds Jordan, ready.
    desk.goto(f"{base}/staff/sessions/day/{tomorrow:%Y-%m-%d}/")
    step(desk, "p-08-staff-day-view")
    headers = desk.locator("table.day-grid thead th").all_text_contents()
    assert headers[1:] == ["Chair 1", "Chair 2", "No chair"]
    chair_two = desk.locator("table.day-grid tbody td:nth-child(3) .day-entry")
    assert "Jordan" in chair_two.inner_text() and "Readiness: ready" in chair_two.inner_text()


def test_a_patient_writes_a_reflection_from_the_prompt_and_the_clinician_reads_it(
    base, clinic, new_page, step, mailoutbox, enqueued
):
    nurse = StaffFactory(clinic=clinic, user__full_name="Dana Whitfield").user
    now = timezone.now()
    sam = PatientFactory(
        clinic=clinic,
        user__full_name="Sam Rivera",
        preferred_name="Sam",
        primary_clinician=nurse,
        tz=daytime_zone(now),
    )
    # Held 30 hours ago; today's reminder time, a few minutes ago, is over 24 hours after it.
    held = TreatmentSession.objects.create(
        patient=sam, scheduled_at=now - timedelta(hours=30), route="iv", status="completed"
    )
    local_now = now.astimezone(ZoneInfo(sam.tz))
    ReminderPreference.objects.update_or_create(
        patient=sam,
        defaults={"checkin_time": (local_now - timedelta(minutes=3)).time().replace(second=0)},
    )
    enqueued.clear()
    dispatch_reminders()
    prompt = Delivery.objects.get(patient=sam, kind=Delivery.Kind.INTEGRATION)
    assert prompt.id in enqueued
    send_delivery(prompt.id)
    (email,) = [m for m in mailoutbox if m.subject == "A few minutes to look back"]

    phone = new_page(*PHONE)
    sign_in(phone, base, sam.user.email)
    phone.wait_for_url(f"{base}/me/")
    assert "How was your session?" in phone.inner_text("main")
    step(phone, "r-01-patient-home-reflection-waiting")
    open_email(phone, email, step, "r-02-patient-prompt-email")
    follow(phone, "text=Sign in to write it")
    assert phone.url == f"{base}/me/sessions/{held.id}/reflection/"
    # The crisis links come before the boxes.
    notice = phone.locator("section[aria-labelledby=not-emergencies-heading]")
    assert notice.locator("a.crisis-button").first.is_visible()
    assert notice.bounding_box()["y"] < phone.locator("textarea").first.bounding_box()["y"]
    step(phone, "r-03-patient-reflection")  # (an empty form, answered 400: test_reflections)
    phone.fill("textarea[name=what_came_up]", "I thought about my father and the lake.")
    phone.fill("textarea[name=feeling]", "Tired but lighter.")
    follow(phone, "main button[type=submit]")
    assert "Your reflection is saved" in phone.inner_text("main")
    assert "How was your session?" not in phone.inner_text("main")
    step(phone, "r-04-patient-home-after")

    desk = new_page(*DESKTOP)
    staff_sign_in(desk, base, nurse.email)
    follow(desk, "text=Sam Rivera")
    sessions = desk.locator("section[aria-labelledby=sessions-heading]")
    assert "the lake" in sessions.locator("tr.reflection-row").inner_text()
    step(desk, "r-05-staff-patient-reflection")
