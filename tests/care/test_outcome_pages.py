"""The outcomes page, its CSV and /api/v1/outcomes/: the cohort read from the database,
filters, access, small-count suppression, errors and a flat query count."""

import csv
import io
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from care.messages.services import message_post, message_thread_start
from care.models import (
    Alert,
    Assessment,
    AuditEvent,
    CheckIn,
    Message,
    MessageThread,
    Patient,
    TreatmentSession,
    User,
)
from care.outcomes.export import CSV_HEADER
from care.outcomes.selectors import OutcomeFilters, clinic_outcome_report
from care.outcomes.services import outcome_facts_refresh
from notifications.models import Delivery
from tests.factories import AssessmentFactory, CheckInFactory, PatientFactory

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("America/New_York")  # the clinics' zone (ClinicFactory)
TODAY = date(2026, 7, 1)
PERIOD = {"start": date(2026, 1, 1), "end": date(2026, 6, 30)}


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), ZONE)


def treated(clinic, *, first_on: date, route="iv", phq9=(), gad7=(), **fields) -> Patient:
    """A patient enrolled a week before a first held session on `first_on`, with scores
    on days relative to it (18:00)."""
    fields.setdefault("tz", "America/New_York")
    patient = PatientFactory(clinic=clinic, enrolled_at=at(first_on - timedelta(days=7)), **fields)
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=at(first_on), route=route, status="completed"
    )
    for code, scores in (("phq9", phq9), ("gad7", gad7)):
        for offset, total in scores:
            AssessmentFactory(
                patient=patient,
                instrument=code,
                total=total,
                completed_at=at(first_on + timedelta(days=offset), 18),
            )
    return patient


def report_for(clinic, **filters):
    return clinic_outcome_report(
        clinic=clinic, filters=OutcomeFilters(**(PERIOD | filters)), today=TODAY
    )[0]


def induction_end(report, code="phq9"):
    [item] = [i for i in report.instruments if i.code == code]
    tp = item.time_points[0]
    return tp.with_baseline, tp.scored, tp.responders, tp.remitters


# The cohort as the database gives it


@pytest.fixture
def cohort(clinic, other_clinic, clinician):
    first = date(2026, 1, 10)
    ann = treated(clinic, first_on=first, phq9=[(-2, 20), (30, 8)], preferred_name="Ann")
    # A result entered wrongly (day 41) and corrected later (day 45): the wrong one is
    # superseded and not used; the correction falls outside the window.
    wrong = AssessmentFactory(
        patient=ann, total=19, completed_at=at(first + timedelta(days=41), 18)
    )
    AssessmentFactory(
        patient=ann, total=19, supersedes=wrong, completed_at=at(first + timedelta(days=45))
    )
    TreatmentSession.objects.create(
        patient=ann, scheduled_at=at(first + timedelta(days=2)), route="iv", status="cancelled"
    )
    bea = treated(
        clinic,
        first_on=first,
        route="intranasal",
        gad7=[(-1, 14), (30, 6)],
        has_depression=False,
        has_anxiety=True,
        primary_clinician=clinician,
        treatment_phase="maintenance",
        preferred_name="Bea",
    )
    cancelled_only = PatientFactory(clinic=clinic, enrolled_at=at(first))
    TreatmentSession.objects.create(
        patient=cancelled_only, scheduled_at=at(first), route="iv", status="cancelled"
    )
    treated(clinic, first_on=date(2026, 7, 5), phq9=[(-1, 20)])  # first session after the end
    late = treated(clinic, first_on=date(2026, 7, 20))  # enrolled after the end
    foreign = treated(other_clinic, first_on=first, phq9=[(-2, 20), (30, 2)])
    return {"ann": ann, "bea": bea, "late": late, "foreign": foreign}


def test_the_cohort_is_the_clinics_treated_patients_of_the_period(clinic, cohort):
    report = report_for(clinic)

    assert (report.patients, report.not_treated_yet) == (2, 2)
    assert induction_end(report, "phq9") == (1, 1, 1, 0)  # Ann: 20 -> 8 (not the 19)
    assert induction_end(report, "gad7") == (1, 1, 1, 0)  # Bea: 14 -> 6
    phq9, gad7 = report.instruments
    assert (phq9.never_scored, gad7.never_scored) == (1, 1)


def test_filters_choose_the_patients(clinic, clinician, cohort):
    assert report_for(clinic, route="intranasal").patients == 1
    assert report_for(clinic, route="intranasal").not_treated_yet == 0
    assert report_for(clinic, route="im").patients == 0
    assert report_for(clinic, condition="anxiety").patients == 1
    assert report_for(clinic, condition="ptsd").patients == 0
    assert report_for(clinic, clinician=clinician.pk).patients == 1
    assert report_for(clinic, phase="maintenance").patients == 1
    assert induction_end(report_for(clinic, condition="anxiety"), "phq9") == (0, 0, 0, 0)


def test_checkins_are_counted_per_patient_in_the_adherence_windows(clinic, cohort):
    ann = cohort["ann"]
    days = [date(2025, 12, 31), date(2026, 1, 5), date(2026, 1, 6), date(2026, 6, 5)]
    days.append(date(2026, 6, 20))
    CheckIn.objects.bulk_create(CheckInFactory.build(patient=ann, local_date=d) for d in days)

    adherence = report_for(clinic).adherence
    rows = {r.key: r for r in adherence.lowest}
    assert adherence.patients == len(rows)  # all listed: fewer than ADHERENCE_ROWS

    row = rows[ann.pk]
    assert row.checkins_done == 4  # not 31 December, before the period
    assert row.checkins_expected == (date(2026, 6, 30) - date(2026, 1, 3)).days + 1
    assert (row.recent_done, row.recent_expected) == (1, 14)  # 17-30 June
    assert (row.earlier_done, row.earlier_expected) == (1, 14)  # 3-16 June
    # Ann's PHQ-9 of 8 January came 40 hours before her first session. Bea (maintenance)
    # did her GAD-7 the evening before hers, and one more in the third of her twelve 14-day
    # blocks: eleven have no session and expect one.
    assert (row.questionnaires_done, row.questionnaires_expected) == (1, 1)
    bea = rows[cohort["bea"].pk]
    assert (bea.questionnaires_done, bea.questionnaires_expected) == (2, 12)


def test_alerts_of_the_period_with_escalations(clinic, cohort):
    ann, foreign = cohort["ann"], cohort["foreign"]
    raised = at(date(2026, 3, 2))

    def alert(patient, created, cause, acked=None):
        return Alert.objects.create(
            patient=patient,
            kind="safety",
            priority="urgent",
            cause=cause,
            reason="r",
            created_at=created,
            acknowledged_at=acked,
        )

    escalated = alert(ann, raised, "a", raised + timedelta(minutes=45))
    # As escalations_dispatch leaves it: the alert records its escalation.
    escalated.escalated_at = raised + timedelta(minutes=30)
    escalated.escalated_to = "c@example.org"
    escalated.save()
    alert(ann, raised, "b")  # still open
    alert(ann, at(date(2025, 12, 30)), "c")  # before the period
    alert(foreign, raised, "d")  # another clinic

    total = report_for(clinic).alerts.total

    assert (total.alerts, total.acknowledged, total.escalated, total.still_open) == (2, 1, 1, 1)
    assert total.median_minutes == 45


def test_messages_of_the_cohort_in_the_period(clinic, cohort, clinician, other_clinician):
    ann, bea, foreign = cohort["ann"], cohort["bea"], cohort["foreign"]
    started = at(date(2026, 3, 6), 17)  # a Friday, 17:00

    def conversation(patient, *, at_time, reply_after=None, staff=clinician):
        thread = message_thread_start(
            patient=patient, subject="s", body="b", urgent=False, now=at_time
        ).message.thread
        message_post(thread=thread, by=staff, body="note", staff_note=True, now=at_time)
        if reply_after is not None:
            message_post(thread=thread, by=staff, body="r", now=at_time + reply_after)
        return thread

    answered = conversation(ann, at_time=started, reply_after=timedelta(hours=64))
    message_post(thread=answered, by=ann.user, body="thanks", now=started + timedelta(days=3))
    conversation(bea, at_time=started, reply_after=timedelta(hours=2))
    conversation(bea, at_time=started)  # no reply yet
    # Started before the period, replied to in it: the reply counts, not the wait.
    conversation(ann, at_time=at(date(2025, 12, 31), 20), reply_after=timedelta(hours=5))
    # After the end of the period, and another clinic's: not counted.
    conversation(ann, at_time=at(date(2026, 7, 1)), reply_after=timedelta(hours=1))
    conversation(foreign, at_time=started, reply_after=timedelta(hours=1), staff=other_clinician)

    figures = report_for(clinic).messages

    assert (figures.patient_messages, figures.replies) == (4, 3)
    assert (figures.threads_started, figures.replied, figures.no_reply_yet) == (3, 2, 1)
    # 2 and 63: the weekend counts; 64 hours on the clinic's clock over the night the
    # clocks went forward (8 March 2026) were 63 hours of waiting.
    assert figures.median_hours_to_reply == Fraction(65, 2)
    assert report_for(clinic, condition="anxiety").messages.threads_started == 2  # Bea's


# The page


def today_first(days_ago: int) -> date:
    return timezone.localdate(timezone=ZONE) - timedelta(days=days_ago)


def a_small_cohort(clinic, n=3):
    return [
        treated(clinic, first_on=today_first(60), phq9=[(-1, 20), (25, 8)], preferred_name=f"P{k}")
        for k in range(n)
    ]


def test_the_page_shows_the_figures_and_the_caution(clinician_client, clinic, clinician):
    [first, *_] = a_small_cohort(clinic)
    now = timezone.now()
    thread = message_thread_start(
        patient=first, subject="s", body="b", urgent=False, now=now - timedelta(hours=3)
    ).message.thread
    message_post(thread=thread, by=clinician, body="r", now=now)

    response = clinician_client.get("/staff/outcomes/")

    text = response.content.decode()
    assert response.status_code == 200
    assert response.context["patients"].text == "3"
    assert "not proof that treatment caused it" in text
    assert "3 of 3 (100.0%)" in text  # response at the end of induction
    assert 'id="outcomes-data"' in text and "<script>" not in text  # data, no inline script
    assert response.context["messages"]["median"].text == "3.0 hours"
    assert '<span class="print-only">left out</span>' in text  # the median of 1 thread
    assert AuditEvent.objects.filter(what="outcomes", action="viewed", channel="page").count() == 1


def test_the_printed_report_writes_small_counts_as_fewer_than_5(clinician_client, clinic):
    a_small_cohort(clinic)

    text = clinician_client.get("/staff/outcomes/").content.decode()

    assert '<span class="screen-only">3 of 3 (100.0%)</span>' in text
    assert '<span class="print-only">fewer than 5 of fewer than 5</span>' in text


def test_staff_pages_link_to_outcomes(clinician_client):
    assert 'href="/staff/outcomes/"' in clinician_client.get("/staff/patients/").content.decode()


def test_patients_whose_adherence_dropped_are_listed_by_name(clinician_client, clinic):
    [patient] = a_small_cohort(clinic, 1)
    yesterday = today_first(1)
    earlier = [yesterday - timedelta(days=d) for d in range(14, 28)]
    CheckIn.objects.bulk_create(
        CheckInFactory.build(patient=patient, local_date=d) for d in earlier
    )

    response = clinician_client.get("/staff/outcomes/")

    [line] = response.context["adherence"]["dropped_patients"]
    assert line.name == patient.user.full_name
    assert f"/staff/patients/{patient.public_id}/" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2026-05-01&end=2026-04-01", "end"),
        ("end=2999-01-01", "end"),
        ("start=2020-01-01&end=2026-01-01", "start"),
        ("start=yesterday", "start"),
        ("start=0001-01-01&end=0001-01-02", "start"),
        ("clinician=abc", "clinician"),
        ("clinician=123456789012345678901234567890", "clinician"),
        ("route=oral", "route"),
        ("phase=over", "phase"),
    ],
)
def test_bad_filters_are_errors_never_500(clinician_client, query, field):
    page = clinician_client.get(f"/staff/outcomes/?{query}")
    export = clinician_client.get(f"/staff/outcomes/export.csv?{query}")
    api = clinician_client.get(f"/api/v1/outcomes/?{query}")

    assert page.status_code == 400 and field in page.context["form"].errors
    assert "These filters cannot be used" in page.content.decode()
    assert export.status_code == 400 and export.content.decode().startswith(field)
    assert api.status_code == 400
    assert api.json()["code"] == "invalid" and field in api.json()["errors"]


def test_a_clinician_of_another_clinic_is_a_bad_filter(clinician_client, other_clinician):
    response = clinician_client.get(f"/api/v1/outcomes/?clinician={other_clinician.pk}")

    assert response.status_code == 400 and "clinician" in response.json()["errors"]


# The CSV


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_csv_holds_the_figures_with_small_counts_suppressed(clinician_client, clinic):
    patients = a_small_cohort(clinic)

    response = clinician_client.get("/staff/outcomes/export.csv?route=iv")

    rows = rows_of(response)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="outcomes-')
    assert rows[0] == CSV_HEADER
    figures = {(r[0], r[1], r[2], r[3]): r[4:] for r in rows[1:]}
    assert figures[("report", "", "", "filter: route")][3] == "iv"
    assert figures[("cohort", "", "", "patients")] == ["fewer than 5", "", "", ""]
    assert figures[("cohort", "", "", "not treated yet (not counted)")][0] == "0"
    induction = ("response and remission", "PHQ-9", "End of induction (days 21-42)")
    response_row = figures[(*induction, "response, of those with a score")]
    assert response_row == ["fewer than 5", "fewer than 5", "", ""]
    text = response.content.decode()
    for patient in patients:
        assert patient.user.full_name not in text and str(patient.public_id) not in text
    assert AuditEvent.objects.filter(what="outcomes", action="exported").count() == 1


def test_the_csv_shows_counts_of_5_and_more_with_percentages(clinician_client, clinic):
    a_small_cohort(clinic, 5)

    rows = rows_of(clinician_client.get("/staff/outcomes/export.csv"))

    figures = {tuple(r[:4]): r[4:] for r in rows[1:]}
    assert figures[("cohort", "", "", "patients")][0] == "5"
    assert figures[("time to first response", "PHQ-9", "week 0", "at risk")][0] == "5"
    assert figures[("mean change from baseline", "PHQ-9", "week 3", "mean change")][3] == "-12.0"
    response_row = ("response and remission", "PHQ-9", "End of induction (days 21-42)")
    assert figures[(*response_row, "response, of those with a score")] == ["5", "5", "100.0", ""]


# The API


def test_the_api_gives_the_same_figures_as_the_csv(clinician_client, clinic):
    a_small_cohort(clinic, 6)

    body = clinician_client.get("/api/v1/outcomes/?condition=depression").json()

    assert body["cohort"]["patients"] == {"count": 6, "text": "6"}
    assert body["filters"] == dict.fromkeys(["route", "clinician", "phase"]) | {
        "condition": "depression"
    }
    phq9 = body["instruments"][0]
    assert phq9["code"] == "phq9"
    assert phq9["time_points"][0]["response"] == {
        "count": {"count": 6, "text": "6"},
        "of": {"count": 6, "text": "6"},
        "percent": 100.0,
    }
    assert body["instruments"][1]["with_baseline"] == {"count": 0, "text": "0"}
    assert [k["kind"] for k in body["alerts"]["kinds"]] == list(Alert.Kind.values)
    assert AuditEvent.objects.filter(what="outcomes", channel="api").count() == 1


def test_the_api_suppresses_small_counts_too(clinician_client, clinic):
    a_small_cohort(clinic, 2)

    body = clinician_client.get("/api/v1/outcomes/").json()

    assert body["cohort"]["patients"] == {"count": None, "text": "fewer than 5"}
    assert body["instruments"][0]["time_points"][0]["response"]["percent"] is None


# Access


def test_another_clinics_staff_get_only_their_own_clinics_figures(client, clinic, other_clinician):
    patients = a_small_cohort(clinic, 6)
    client.force_login(other_clinician)

    page = client.get("/staff/outcomes/")
    api = client.get("/api/v1/outcomes/").json()
    export = client.get("/staff/outcomes/export.csv").content.decode()

    assert page.context["patients"].text == "0" and page.context["clinic"] != clinic
    assert api["cohort"]["patients"]["count"] == 0
    assert "\ncohort,,,patients,0,,,\r" in export
    for patient in patients:
        for text in (page.content.decode(), export):
            assert patient.user.full_name not in text


def test_patients_and_anonymous_visitors_get_nothing(client, patient_client):
    for url in ("/staff/outcomes/", "/staff/outcomes/export.csv"):
        assert patient_client.get(url).status_code == 404
    assert patient_client.get("/api/v1/outcomes/").status_code == 404
    patient_client.logout()
    assert client.get("/staff/outcomes/").status_code == 302
    assert client.get("/api/v1/outcomes/").status_code == 401


# A flat query count


def _bulk_cohort(clinic, count):
    """`count` treated patients with scores, check-ins, sessions and alerts."""
    first = timezone.now() - timedelta(days=100)
    password = make_password(None)
    users = User.objects.bulk_create(
        User(email=f"out{count}-{n}@example.org", full_name=f"Out {n:04d}", password=password)
        for n in range(count)
    )
    patients = Patient.objects.bulk_create(
        Patient(
            user=u,
            clinic=clinic,
            preferred_name="O",
            date_of_birth="1980-01-01",
            tz="UTC",
            has_depression=True,
            has_anxiety=True,
            treatment_phase="maintenance",
            consultation_on=(first - timedelta(days=8)).date(),
            enrolled_at=first - timedelta(days=7),
        )
        for u in users
    )
    TreatmentSession.objects.bulk_create(
        TreatmentSession(
            patient=p, scheduled_at=first + timedelta(days=d), route="iv", status="completed"
        )
        for p in patients
        for d in (0, 2, 4, 35, 63)
    )
    Assessment.objects.bulk_create(
        AssessmentFactory.build(
            patient=p, instrument=code, total=total, completed_at=first + timedelta(days=d)
        )
        for p in patients
        for code in ("phq9", "gad7")
        for d, total in ((-1, 18), (10, 12), (30, 8), (62, 4), (90, 3))
    )
    today = timezone.now().date()
    CheckIn.objects.bulk_create(
        CheckInFactory.build(patient=p, local_date=today - timedelta(days=d))
        for p in patients
        for d in range(1, 40, 3)
    )
    alerts = Alert.objects.bulk_create(
        Alert(
            patient=p,
            kind="safety",
            priority="urgent",
            cause="c",
            reason="r",
            created_at=first + timedelta(days=20),
            acknowledged_at=first + timedelta(days=20, minutes=30),
        )
        for p in patients[::2]
    )
    Alert.objects.filter(pk__in=[a.pk for a in alerts[::2]]).update(
        escalated_at=first + timedelta(days=20, minutes=15), escalated_to="x@example.org"
    )
    started = first + timedelta(days=30)
    threads = MessageThread.objects.bulk_create(
        MessageThread(
            patient=p, subject="s", created_at=started, last_message_at=started + timedelta(hours=3)
        )
        for p in patients
    )
    Message.objects.bulk_create(
        Message(thread=t, from_patient=from_patient, is_staff_note=note, body="b", created_at=at)
        for t in threads
        for from_patient, note, at in (
            (True, False, started),
            (False, True, started + timedelta(hours=1)),
            (False, False, started + timedelta(hours=3)),
        )
    )


@pytest.mark.parametrize(
    ("url", "queries"),
    [("/staff/outcomes/", 22), ("/api/v1/outcomes/", 20), ("/staff/outcomes/export.csv", 20)],
)
@pytest.mark.parametrize("stored", [False, True])
@pytest.mark.django_db(transaction=True)  # the page's own snapshot, as outside a test
def test_the_same_queries_for_10_and_1000_patients(
    clinician_client, clinic, other_clinic, url, queries, stored
):
    _bulk_cohort(clinic, 10)
    if stored:
        outcome_facts_refresh()
    with CaptureQueriesContext(connection) as small:
        response = clinician_client.get(f"{url}?condition=depression&route=iv")
    assert response.status_code == 200

    _bulk_cohort(other_clinic, 990)
    Patient.objects.filter(clinic=other_clinic).update(clinic=clinic)
    if stored:
        outcome_facts_refresh()
    # Building the cohort can take past the session's activity refresh on a busy machine
    # (one more UPDATE of the session): a request first, so only the page's queries differ.
    clinician_client.get("/staff/alerts/")
    with CaptureQueriesContext(connection) as large:
        response = clinician_client.get(f"{url}?condition=depression&route=iv")
    assert response.status_code == 200
    if url == "/api/v1/outcomes/":
        assert response.json()["cohort"]["patients"]["count"] == 1000
        assert response.json()["messages"]["care_team_replies"]["count"] == 1000
        assert response.json()["messages"]["median_hours_to_first_reply"] == 3.0

    # 20: session, user, the user's patient profile (none), membership, clinic, the
    # second-factor check, the audit row, and thirteen for the figures, in a transaction of
    # their own (begun, its snapshot's isolation and settings, committed): the groups whose
    # sums stand, the cohort but those written to a temporary table, its statistics,
    # questionnaire figures and the cohort's size, adherence, alerts, reminders by status
    # and reason, message threads, the table's drop. With the patients stored, their groups'
    # sums stand: the patients not in them are read first, and the alerts and the threads of
    # the patients in them apart, three more. The page adds the nav's open alert count and
    # the clinicians of the filter form.
    expected = queries + (3 if stored else 0)
    assert len(small.captured_queries) == len(large.captured_queries) == expected


def _reminder(patient, due_at, status, skip_reason=""):
    return Delivery.objects.create(
        kind="checkin_due",
        subject_key=f"patient:{patient.pk}:{due_at.date()}:{due_at.hour}",
        due_at=due_at,
        patient=patient,
        to_email="x@example.org",
        status=status,
        skip_reason=skip_reason,
    )


def test_reminders_of_the_period_are_counted_sent_and_skipped_by_reason(
    clinician_client, clinic, other_clinic
):
    patient = treated(clinic, first_on=date(2026, 3, 2))
    foreign = treated(other_clinic, first_on=date(2026, 3, 2))
    for hour in range(6):
        _reminder(patient, at(date(2026, 3, 3), hour), "sent")
    for hour in range(5):
        _reminder(patient, at(date(2026, 3, 4), hour), "skipped", "too_late")
    _reminder(patient, at(date(2026, 3, 5)), "skipped", "capped")
    _reminder(patient, at(date(2026, 3, 6)), "failed")
    _reminder(patient, at(date(2025, 12, 1)), "skipped", "too_late")  # before the period
    _reminder(foreign, at(date(2026, 3, 4)), "skipped", "too_late")  # another clinic

    figures = report_for(clinic).reminders
    period = f"start={PERIOD['start']}&end={PERIOD['end']}"
    text = clinician_client.get(f"/staff/outcomes/?{period}").content.decode()

    assert (figures.sent, figures.skipped, figures.failed) == (6, 6, 1)
    assert figures.skipped_by_reason == (("too_late", 5), ("capped", 1))
    assert "Reminders sent and skipped" in text
    assert "too late: more than 3 hours past its time" in text
    # The CSV and the API carry the same figures, suppressed as every count is (1 to 4).
    response = clinician_client.get(f"/staff/outcomes/export.csv?{period}")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    reminder_rows = {(r[2], r[3]): r[4] for r in rows if r[0] == "reminders"}
    assert reminder_rows == {
        ("", "sent"): "6",
        ("", "skipped"): "6",
        ("skipped", "too late: more than 3 hours past its time"): "5",
        ("skipped", "three unanswered in a row: no more this week"): "fewer than 5",
        ("", "failed"): "fewer than 5",
        ("", "still waiting"): "0",
    }
    api = clinician_client.get(f"/api/v1/outcomes/?{period}").json()["reminders"]
    assert api["sent"] == {"count": 6, "text": "6"}
    assert [(r["reason"], r["count"]["count"]) for r in api["skipped_by_reason"]] == [
        ("too_late", 5),
        ("capped", None),
    ]


def test_delivery_success_is_shown_by_channel(clinician_client, clinic):
    patient = treated(clinic, first_on=date(2026, 3, 2))
    for hour in range(8):
        _reminder(patient, at(date(2026, 3, 3), hour), "sent")
    for hour in range(6):
        text = _reminder(patient, at(date(2026, 3, 4), hour), "sent")
        Delivery.objects.filter(pk=text.pk).update(channel="text", to_email="", to_phone="+1")
    for hour in range(6, 12):
        text = _reminder(patient, at(date(2026, 3, 4), hour), "failed")
        Delivery.objects.filter(pk=text.pk).update(channel="text", to_email="", to_phone="+1")

    figures = report_for(clinic).reminders
    period = f"start={PERIOD['start']}&end={PERIOD['end']}"
    page = clinician_client.get(f"/staff/outcomes/?{period}").content.decode()
    api = clinician_client.get(f"/api/v1/outcomes/?{period}").json()["reminders"]

    assert [(c.channel, c.sent, c.failed) for c in figures.by_channel] == [
        ("email", 8, 0),
        ("text", 6, 6),
    ]
    assert "Delivery success" in page
    assert "6 of 12 (50.0%)" in page
    assert [(c["channel"], c["delivered_share"]["percent"]) for c in api["by_channel"]] == [
        ("email", 100.0),
        ("text", 50.0),
    ]
