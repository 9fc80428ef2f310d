"""The caseload: order by need, what each row says, filters, and a flat query count."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from care.caseload.selectors import CaseloadEntry, CaseloadFilters, caseload_page
from care.caseload.sql import CaseloadPatient
from care.models import Alert, Assessment, CheckIn, Patient, TreatmentSession, User
from tests.factories import AssessmentFactory, CheckInFactory, PatientFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 20, 18, tzinfo=UTC)


def alert(patient, kind, priority, cause="x"):
    return Alert.objects.create(
        patient=patient, kind=kind, priority=priority, cause=cause, reason="r", created_at=NOW
    )


def page_for(clinic, **filters):
    return caseload_page(
        clinic=clinic, filters=CaseloadFilters(**filters), now=NOW, page_number=None
    )


def names(rows):
    return [r.patient.preferred_name for r in rows]


def test_patients_needing_attention_come_first(clinic):
    quiet = PatientFactory(clinic=clinic, preferred_name="Ann", user__full_name="Ann A")
    missed = PatientFactory(clinic=clinic, preferred_name="Bea", user__full_name="Bea B")
    high = PatientFactory(clinic=clinic, preferred_name="Cal", user__full_name="Cal C")
    safety = PatientFactory(clinic=clinic, preferred_name="Dee", user__full_name="Dee D")
    alert(missed, "missed_checkins", "routine")
    alert(high, "worsening", "high")
    alert(safety, "safety", "urgent")
    acknowledged = alert(quiet, "safety", "urgent")
    acknowledged.acknowledged_at = NOW
    acknowledged.save()

    _, rows = page_for(clinic)

    assert names(rows) == ["Dee", "Cal", "Bea", "Ann"]
    assert [(a.label, a.count) for a in rows[0].alerts] == [("Safety", 1)]
    assert rows[3].alerts == []


def test_a_row_shows_change_from_baseline_response_and_remission(clinic):
    patient = PatientFactory(clinic=clinic)
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=NOW - timedelta(days=40), route="iv", status="completed"
    )
    for days_ago, total in [(45, 18), (20, 9), (2, 4)]:
        AssessmentFactory(patient=patient, total=total, completed_at=NOW - timedelta(days=days_ago))
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=NOW + timedelta(days=3), route="iv"
    )

    [row] = page_for(clinic)[1]

    phq9 = row.scores["phq9"]
    assert (phq9.latest, phq9.baseline, phq9.change) == (4, 18, -14)
    assert phq9.response and phq9.remission
    assert row.next_session_at == NOW + timedelta(days=3)
    assert row.scores["gad7"].latest is None


def test_a_row_shows_the_change_since_the_previous_score_and_from_baseline(clinic):
    patient = PatientFactory(clinic=clinic)
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=NOW - timedelta(days=40), route="iv", status="completed"
    )
    for days_ago, total in [(45, 18), (30, 12), (14, 7), (0.5, 17)]:
        AssessmentFactory(patient=patient, total=total, completed_at=NOW - timedelta(days=days_ago))

    [row] = page_for(clinic)[1]

    phq9 = row.scores["phq9"]
    assert (phq9.latest, phq9.previous, phq9.since_previous) == (17, 7, 10)
    assert (phq9.baseline, phq9.change) == (18, -1)


def test_of_two_scores_at_the_same_instant_the_one_stored_later_is_the_latest(clinic):
    patient = PatientFactory(clinic=clinic)
    at = NOW - timedelta(days=3)
    for total in [11, 5, 8]:  # the last two at the same instant
        AssessmentFactory(patient=patient, total=total, completed_at=at)
        at = NOW - timedelta(days=1)

    [row] = page_for(clinic)[1]

    phq9 = row.scores["phq9"]
    assert (phq9.latest, phq9.previous, phq9.since_previous) == (8, 5, 3)


def test_a_row_shows_the_last_checkin_and_the_7_day_mood_direction(clinic):
    patient = PatientFactory(clinic=clinic, tz="UTC")
    today = NOW.date()
    for days_ago in range(14, 0, -1):
        mood = 3 if days_ago > 7 else 7
        CheckInFactory(patient=patient, local_date=today - timedelta(days=days_ago), mood=mood)

    [row] = page_for(clinic)[1]

    assert (row.last_checkin_on, row.days_since_checkin) == (today - timedelta(days=1), 1)
    assert row.mood_avg == 7.0 and row.mood_direction == "up"


def test_filters_and_search(clinic, clinician):
    a = PatientFactory(
        clinic=clinic,
        preferred_name="Ann",
        user__full_name="Ann Smith",
        has_depression=True,
        primary_clinician=clinician,
    )
    PatientFactory(
        clinic=clinic,
        preferred_name="Bo",
        user__full_name="Bo Jones",
        has_depression=False,
        has_ptsd=True,
        treatment_phase="maintenance",
    )
    PatientFactory(clinic=clinic, preferred_name="Cy", user__full_name="Cy Paused", status="paused")

    assert names(page_for(clinic)[1]) == ["Ann", "Bo"]
    assert names(page_for(clinic, clinician=clinician.pk)[1]) == ["Ann"]
    assert names(page_for(clinic, condition="ptsd")[1]) == ["Bo"]
    assert names(page_for(clinic, phase="maintenance")[1]) == ["Bo"]
    assert names(page_for(clinic, status="paused")[1]) == ["Cy"]
    assert names(page_for(clinic, status="")[1]) == ["Ann", "Bo", "Cy"]
    assert names(page_for(clinic, search="smi")[1]) == [a.preferred_name]
    assert names(page_for(clinic, search="BO")[1]) == ["Bo"]  # the preferred name too
    assert names(page_for(clinic, condition="depression", clinician=clinician.pk)[1]) == ["Ann"]
    assert page_for(clinic, condition="anxiety")[0].paginator.count == 0


def test_a_searched_name_is_matched_as_typed_wildcards_and_all(clinic):
    """The search is "contains", case-insensitive, with % and _ as plain characters."""
    for name in ["Ann 100% Smith", "Bo 1000 Smith", "Cy A_B", "Dee AxB", "Émile Zola"]:
        PatientFactory(clinic=clinic, preferred_name=name.split()[0], user__full_name=name)

    assert names(page_for(clinic, search="100%")[1]) == ["Ann"]
    assert names(page_for(clinic, search="a_b")[1]) == ["Cy"]
    assert names(page_for(clinic, search="émile")[1]) == ["Émile"]
    assert names(page_for(clinic, search="\\")[1]) == []
    assert page_for(clinic, search="%")[0].paginator.count == 1


def test_the_page_filters_from_the_query_string_and_ignores_bad_values(clinician_client, clinic):
    PatientFactory(clinic=clinic, preferred_name="Ann", user__full_name="Ann Smith")

    ok = clinician_client.get("/staff/patients/?q=ann&condition=depression")
    odd = clinician_client.get("/staff/patients/?clinician=abc&phase=nonsense&page=zz")

    assert [r.patient.preferred_name for r in ok.context["rows"]] == ["Ann"]
    assert odd.status_code == 200 and len(odd.context["rows"]) == 1


def _bulk_patients(clinic, count):
    password = make_password(None)
    users = User.objects.bulk_create(
        [
            User(email=f"bulk{count}-{n}@example.org", full_name=f"Bulk {n:04d}", password=password)
            for n in range(count)
        ]
    )
    patients = Patient.objects.bulk_create(
        [
            Patient(
                user=u,
                clinic=clinic,
                preferred_name="B",
                date_of_birth="1980-01-01",
                tz="UTC",
                has_depression=True,
                consultation_on="2026-01-01",
            )
            for u in users
        ]
    )
    CheckIn.objects.bulk_create(
        [
            CheckInFactory.build(patient=p, local_date=NOW.date() - timedelta(days=d))
            for p in patients
            for d in (1, 2)
        ]
    )
    Assessment.objects.bulk_create(
        [
            AssessmentFactory.build(patient=p, completed_at=NOW - timedelta(days=d))
            for p in patients
            for d in (3, 20)
        ]
    )
    Alert.objects.bulk_create(
        [
            Alert(
                patient=p,
                kind="worsening",
                priority="high",
                cause="phq9:rise",
                reason="r",
                created_at=NOW,
            )
            for p in patients[::3]
        ]
    )


def test_the_caseload_page_costs_the_same_queries_for_10_and_1000_patients(
    clinician_client, clinic, other_clinic
):
    _bulk_patients(clinic, 10)
    with CaptureQueriesContext(connection) as small:
        response = clinician_client.get("/staff/patients/")
    assert len(response.context["rows"]) == 10

    _bulk_patients(other_clinic, 990)
    Patient.objects.filter(clinic=other_clinic).update(clinic=clinic)
    with CaptureQueriesContext(connection) as large:
        response = clinician_client.get("/staff/patients/")

    assert response.context["page"].paginator.count == 1000
    # Session, user, membership and clinic, the second-factor check, the audit row, the
    # nav's alert counts, the filter form's clinicians, and the page: count, the open alerts,
    # the next patients by name, and one for everything the page's rows show.
    assert len(large.captured_queries) == len(small.captured_queries) <= 13


def test_the_clinician_filter_lists_the_clinics_clinicians_from_one_read(
    clinician_client, clinician, clinic
):
    from tests.factories import StaffFactory

    other = StaffFactory(clinic=clinic, user__full_name="Dr Other").user
    clinician_client.post("/staff/patients/", {"clinician": str(other.pk)})

    with CaptureQueriesContext(connection) as queries:
        response = clinician_client.get("/staff/patients/")

    [control] = [c for c in response.context["controls"] if c.name == "clinician"]
    assert control.options[0] == ("", "Anyone", False)
    assert (str(other.pk), "Dr Other", True) in control.options
    assert (str(clinician.pk), str(clinician), False) in control.options
    assert f'<option value="{other.pk}" selected>Dr Other</option>' in response.text
    assert not [q for q in queries.captured_queries if "CURSOR" in q["sql"]]


def test_patients_of_other_clinics_never_appear(clinician_client, foreign_patient):
    response = clinician_client.get("/staff/patients/?status=all")

    assert foreign_patient.pk not in [r.patient.pk for r in response.context["rows"]]


def test_patients_do_not_reach_the_caseload(patient_client):
    assert patient_client.get("/staff/patients/").status_code == 404


def test_now_is_used_for_the_next_session(clinic):
    patient = PatientFactory(clinic=clinic)
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=NOW - timedelta(hours=1), route="iv"
    )

    [row] = caseload_page(
        clinic=clinic, filters=CaseloadFilters(), now=timezone.now(), page_number="1"
    )[1]

    assert row.next_session_at is None


def test_one_bad_filter_value_keeps_the_other_filters(clinician_client, clinic):
    PatientFactory(clinic=clinic, preferred_name="Ann", user__full_name="Ann Smith")
    PatientFactory(clinic=clinic, preferred_name="Bo", user__full_name="Bo Jones")

    response = clinician_client.get("/staff/patients/?q=ann&clinician=abc")

    assert [r.patient.preferred_name for r in response.context["rows"]] == ["Ann"]


def test_remission_needs_a_score_after_the_baseline(clinic):
    patient = PatientFactory(clinic=clinic)
    AssessmentFactory(patient=patient, total=3, completed_at=NOW - timedelta(days=1))

    [row] = page_for(clinic)[1]

    assert row.scores["phq9"].latest == 3 and not row.scores["phq9"].remission


def test_the_filter_form_keeps_a_typed_name_out_of_the_url(clinician_client, clinic):
    PatientFactory(clinic=clinic, preferred_name="Ann", user__full_name="Ann Smith")
    PatientFactory(clinic=clinic, preferred_name="Bo", user__full_name="Bo Jones")

    posted = clinician_client.post("/staff/patients/", {"q": "smith", "status": "active"})
    page = clinician_client.get(posted["Location"])
    cleared = clinician_client.post("/staff/patients/", {"clear": "1"})
    after = clinician_client.get(cleared["Location"])

    assert posted.status_code == 302 and posted["Location"] == "/staff/patients/"
    assert [r.patient.preferred_name for r in page.context["rows"]] == ["Ann"]
    assert 'value="smith"' in page.content.decode()  # the form shows what is applied
    assert [r.patient.preferred_name for r in after.context["rows"]] == ["Ann", "Bo"]


def test_pages_continue_from_the_patients_needing_attention_to_the_others_by_name(
    clinic, clinician, monkeypatch
):
    monkeypatch.setattr("care.caseload.selectors.PAGE_SIZE", 3)
    people = {
        name: PatientFactory(clinic=clinic, preferred_name=name, user__full_name=f"{name} Z")
        for name in ["Ann", "Bea", "Cal", "Dee", "Eve", "Fay", "Gus"]
    }
    alert(people["Gus"], Alert.Kind.SAFETY, Alert.Priority.URGENT)
    alert(people["Eve"], "worsening", Alert.Priority.HIGH)
    alert(people["Bea"], "worsening", Alert.Priority.HIGH)
    done = alert(people["Ann"], Alert.Kind.SAFETY, Alert.Priority.URGENT, cause="old")
    done.acknowledged_at = NOW
    done.save()
    # Another clinician's patient needing attention is left out by the clinician filter.
    other = PatientFactory(clinic=clinic, preferred_name="Hal", user__full_name="Hal Z")
    alert(other, Alert.Kind.SAFETY, Alert.Priority.URGENT)
    Patient.objects.exclude(pk=other.pk).update(primary_clinician=clinician)

    def page(number, **filters):
        return caseload_page(
            clinic=clinic,
            filters=CaseloadFilters(clinician=clinician.pk, **filters),
            now=NOW,
            page_number=number,
        )

    pages = [names(page(n)[1]) for n in ("1", "2", "3")]

    assert pages == [["Gus", "Bea", "Eve"], ["Ann", "Cal", "Dee"], ["Fay"]]
    assert page("1")[0].paginator.count == 7
    assert names(page("1", search="e")[1]) == ["Bea", "Eve", "Dee"]


def test_a_page_holds_plain_entries_not_model_objects(clinic):
    """What a row needs comes in small frozen values read by one statement, not as model
    objects (which other code could save) or attributes hung on them."""
    someone = PatientFactory(
        clinic=clinic, preferred_name="Eve", user__full_name="Eve E", phone_other="+12025550143"
    )
    alert(someone, "worsening", "high")
    CheckInFactory(patient=someone, local_date=NOW.date() - timedelta(days=1), mood=6)

    page, rows = page_for(clinic)

    [entry] = page.object_list
    assert isinstance(entry, CaseloadEntry) and isinstance(entry.patient, CaseloadPatient)
    assert (entry.patient.pk, entry.patient.public_id) == (someone.pk, someone.public_id)
    assert (entry.patient.name, entry.patient.phone) == ("Eve E", "+12025550143")
    assert entry.open_alerts == (("worsening", "high"),)
    assert entry.last_checkin_on == NOW.date() - timedelta(days=1)
    assert (entry.mood_days, entry.moods) == ([NOW.date() - timedelta(days=1)], [6])
    assert entry.scores == {"phq9": [], "gad7": []}
    with pytest.raises(AttributeError):
        entry.open_alerts = ()  # frozen
    assert rows[0].last_checkin_on == entry.last_checkin_on
