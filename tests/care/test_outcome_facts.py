"""Each patient's stored outcome facts (care/models/outcomes.py): marked stale by the
database on every write that changes them, stored again by the refresh, read by the
outcomes page only while they stand for the period, and the same figures either way."""

import dataclasses
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from care.domain.outcomes import Period, PointCounts, default_period, outcome_report
from care.models import (
    Assessment,
    CheckIn,
    InstrumentFacts,
    OutcomeFactsAdherence,
    OutcomeFactsDay,
    OutcomeFactsGroup,
    OutcomeFactsStale,
    OutcomeFactsSums,
    OutcomeFactsWeeks,
    Patient,
    PatientOutcomeFacts,
    TreatmentSession,
)
from care.outcomes import sql as outcome_sql
from care.outcomes.selectors import POINT_WINDOWS, OutcomeFilters, cohort_patients, outcome_data
from care.outcomes.services import ADHERENCE_RULES, move_days, outcome_facts_refresh
from care.tasks import refresh_outcome_facts
from tests.care.test_outcome_definitions import (
    FIRST,
    at_noon,
    day,
    figures,
    generated,
    persist,
    person,
)
from tests.db import other_connection
from tests.factories import (
    AssessmentFactory,
    CheckInFactory,
    ClinicFactory,
    PatientFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db

# A period that holds every row of the generated cohorts.
WHOLE = (date(2025, 6, 1), date(2028, 5, 31))
AFTER_WHOLE = date(2028, 6, 10)


def insert_score(other, patient_id: int, total: int, at: datetime) -> None:
    """A PHQ-9 score written by the transaction of another connection."""
    other.execute(
        "INSERT INTO care_assessment (patient_id, public_id, instrument, answers, total, band,"
        " flags, completed_at) VALUES (%s, gen_random_uuid(), 'phq9', '{}', %s, '', '{}', %s)",
        [patient_id, total, at],
    )


def held(patient, at=FIRST, route="iv") -> TreatmentSession:
    return TreatmentSession.objects.create(
        patient=patient, scheduled_at=at, route=route, status="completed"
    )


def marked() -> set[int]:
    return set(OutcomeFactsStale.objects.values_list("patient_id", flat=True))


def stored(clinic, period=WHOLE) -> set[int]:
    """The cohort's patients whose stored facts the page reads for `period`."""
    chosen = OutcomeFilters(*period)
    rows = cohort_patients(clinic=clinic, filters=chosen, period=Period(*period, clinic.tz))
    return set(rows.filter(stored=True).values_list("pk", flat=True))


def test_every_write_that_changes_the_facts_marks_the_patient(clinic):
    patient, other = PatientFactory(clinic=clinic), PatientFactory(clinic=clinic)
    OutcomeFactsStale.objects.all().delete()

    def marks(write) -> set[int]:
        OutcomeFactsStale.objects.all().delete()
        write()
        return marked()

    score = AssessmentFactory(patient=patient)
    session = held(patient)
    assert marks(lambda: AssessmentFactory(patient=patient)) == {patient.pk}
    assert marks(lambda: Assessment.objects.filter(pk=score.pk).update(total=3)) == {patient.pk}
    assert marks(lambda: Assessment.objects.filter(pk=score.pk).delete()) == {patient.pk}
    assert marks(lambda: held(other)) == {other.pk}
    assert marks(lambda: TreatmentSession.objects.filter(pk=session.pk).update(route="im")) == {
        patient.pk
    }
    assert marks(lambda: TreatmentSession.objects.filter(pk=session.pk).delete()) == {patient.pk}
    # A session moved to another patient marks both.
    moved = held(patient)
    assert marks(lambda: TreatmentSession.objects.filter(pk=moved.pk).update(patient=other)) == {
        patient.pk,
        other.pk,
    }
    # A bulk write marks each patient once; the time zone marks, other fields do not.
    assert marks(
        lambda: Assessment.objects.bulk_create(
            [AssessmentFactory.build(patient=p) for p in (patient, other, patient)]
        )
    ) == {patient.pk, other.pk}
    assert marks(lambda: Patient.objects.filter(pk=patient.pk).update(tz="Asia/Kolkata")) == {
        patient.pk
    }
    assert marks(lambda: Patient.objects.filter(pk=patient.pk).update(tz="Asia/Kolkata")) == set()
    assert marks(lambda: Patient.objects.filter(pk=patient.pk).update(preferred_name="Z")) == set()
    # Check-ins, and what decides which questionnaires the patient is asked for.
    checkin = CheckInFactory(patient=patient)
    assert marks(lambda: CheckInFactory(patient=other)) == {other.pk}
    assert marks(lambda: CheckIn.objects.filter(pk=checkin.pk).update(mood=2)) == {patient.pk}
    assert marks(lambda: CheckIn.objects.filter(pk=checkin.pk).delete()) == {patient.pk}
    assert marks(lambda: Patient.objects.filter(pk=patient.pk).update(has_anxiety=True)) == {
        patient.pk
    }
    assert marks(lambda: Patient.objects.filter(pk=patient.pk).update(questionnaires=["gad7"])) == {
        patient.pk
    }
    # What the outcome filters select a patient by, and their enrolment (their stored
    # facts are summed in the group of these).
    other_clinic = ClinicFactory()
    assert marks(lambda: Patient.objects.filter(pk=patient.pk).update(treatment_phase="x")) == {
        patient.pk
    }
    assert marks(
        lambda: Patient.objects.filter(pk=patient.pk).update(primary_clinician=StaffFactory().user)
    ) == {patient.pk}
    assert marks(lambda: Patient.objects.filter(pk=patient.pk).update(clinic=other_clinic)) == {
        patient.pk
    }
    assert marks(lambda: Patient.objects.filter(pk=patient.pk).update(enrolled_at=FIRST)) == {
        patient.pk
    }
    assert marks(lambda: Patient.objects.filter(pk=patient.pk).update(status="paused")) == {
        patient.pk
    }
    # A deleted patient (their rows go with them) and a bulk deletion.
    gone = [PatientFactory(clinic=clinic).pk for _ in range(2)]
    assert marks(lambda: Patient.objects.filter(pk=other.pk).delete()) == {other.pk}
    assert marks(lambda: Patient.objects.filter(pk__in=gone).delete()) == set(gone)
    # Each further mark of a marked patient is counted on the same row.
    OutcomeFactsStale.objects.all().delete()
    AssessmentFactory(patient=patient)
    AssessmentFactory(patient=patient)
    assert OutcomeFactsStale.objects.get().marks == 2


def test_the_refresh_stores_the_facts_and_the_page_reads_them_while_they_stand(clinic):
    made = persist(
        clinic,
        [
            person(1, phq9=[(-1, 20), (30, 9), (100, 4)], gad7=[(-1, 12), (25, 6)]),
            person(2, phq9=[(5, 12)]),  # scored only after treatment began
            person(3, first_held_at=None, phq9=[(-3, 15)]),  # not treated yet
        ],
    )
    assert marked() == {p.pk for p in made.values()}
    assert stored(clinic) == set()

    assert outcome_facts_refresh() == 3
    assert marked() == set()
    assert stored(clinic) == {made[1].pk, made[2].pk}
    facts = PatientOutcomeFacts.objects.get(patient=made[1])
    assert (facts.first_held_at, facts.routes, facts.last_at) == (FIRST, ["iv"], day(100))
    phq9 = InstrumentFacts.objects.get(patient=made[1], code="phq9")
    assert (phq9.has_baseline, phq9.baseline, phq9.responded, phq9.last_seen) == (True, 20, 4, 14)
    assert (phq9.point_1, phq9.point_2, phq9.point_3) == (9, 4, None)
    assert (phq9.week_4, phq9.week_14, phq9.week_5) == (-11, -16, None)
    assert not InstrumentFacts.objects.get(patient=made[2], code="phq9").has_baseline
    assert not PatientOutcomeFacts.objects.filter(patient=made[3]).exists()

    # A period that ends before a patient's last row: theirs are worked out from the rows.
    early = (date(2025, 12, 1), date(2026, 3, 31))
    assert stored(clinic, early) == {made[2].pk}
    figures(clinic, period=early, today=date(2026, 4, 2))

    # A new score marks the patient until the next refresh: the page does not read theirs.
    Assessment.objects.create(
        patient=made[2], instrument="phq9", total=3, completed_at=day(50), answers={}
    )
    assert stored(clinic) == {made[1].pk}
    report = figures(clinic, period=WHOLE, today=AFTER_WHOLE)
    assert report.instruments[0].no_baseline == 1
    assert marked() == set()  # figures() refreshed after its first check
    assert stored(clinic) == {made[1].pk, made[2].pk}


def test_two_sessions_on_one_day_each_expect_a_questionnaire_from_the_stored_days(clinic):
    morning = datetime(2026, 3, 5, 9, tzinfo=UTC)
    evening = datetime(2026, 3, 5, 20, tzinfo=UTC)
    made = persist(
        clinic,
        [
            person(
                1,
                phase="maintenance",
                instruments=("phq9",),
                held=(morning, evening, datetime(2026, 3, 20, 9, tzinfo=UTC)),
                # In the 48 hours before both sessions of 5 March; none before 20 March.
                completions=(("phq9", morning - timedelta(hours=1)),),
                checkins=tuple(date(2026, 3, 1) + timedelta(days=n) for n in range(0, 40, 2)),
            )
        ],
    )
    outcome_facts_refresh()
    facts = PatientOutcomeFacts.objects.get(patient=made[1])
    assert facts.held_extra == [date(2026, 3, 5)]
    assert facts.prepared_extra == [date(2026, 3, 5)]
    period = (date(2026, 3, 1), date(2026, 4, 13))
    assert stored(clinic, period) == {made[1].pk}
    [row] = figures(clinic, period=period, today=date(2026, 4, 14)).adherence.lowest
    # Three held sessions, two of them with the questionnaire in the 48 hours before; the
    # 14-day blocks 1-14 and 15-28 March hold sessions, 29 March-11 April expects one.
    assert (row.questionnaires_done, row.questionnaires_expected) == (2, 4)
    assert (row.checkins_done, row.checkins_expected) == (20, 44)


def test_the_refresh_runs_in_batches_and_as_a_task(clinic):
    persist(clinic, [person(key, phq9=[(-1, 10), (key, 5)]) for key in range(1, 6)])
    assert outcome_facts_refresh(batch=2, max_batches=2) == 4
    assert len(marked()) == 1
    refresh_outcome_facts()  # the every-minute task
    assert marked() == set()
    assert InstrumentFacts.objects.count() == 5


@pytest.mark.parametrize("seed", [4, 5])
@pytest.mark.django_db(transaction=True)
def test_generated_cohorts_with_stored_stale_and_late_patients_give_the_same_figures(clinic, seed):
    rng = random.Random(seed)
    made = persist(clinic, generated(rng, 60))
    outcome_facts_refresh()
    assert len(stored(clinic)) > 40
    # Some patients change after the refresh: new scores, a session held, a correction, a
    # move to another zone; the rest keep their stored facts.
    patients = list(made.values())
    for patient in rng.sample(patients, 6):
        Assessment.objects.create(
            patient=patient,
            instrument=rng.choice(["phq9", "gad7"]),
            total=rng.randrange(0, 22),
            completed_at=datetime(2027, 6, 1, 9, tzinfo=UTC) + timedelta(hours=rng.randrange(99)),
            answers={},
        )
    for patient in rng.sample(patients, 4):
        TreatmentSession.objects.create(
            patient=patient,
            scheduled_at=datetime(2025, 12, 30, 15, tzinfo=UTC),
            route=rng.choice(["im", "intranasal"]),
            status="completed",
        )
    original = rng.choice(list(Assessment.objects.filter(total__isnull=False).order_by("pk")))
    Assessment.objects.create(
        patient=original.patient,
        instrument=original.instrument,
        total=0,
        completed_at=original.completed_at + timedelta(minutes=5),
        supersedes=original,
        answers={},
    )
    Patient.objects.filter(pk=patients[0].pk).update(tz="Pacific/Auckland")
    assert 0 < len(marked()) < 20

    for period, today in [(WHOLE, AFTER_WHOLE), (WHOLE, date(2027, 1, 10))]:
        report = figures(clinic, period=period, today=today)
        assert report.patients > 40
    for route in ("iv", "im", "intranasal"):
        figures(clinic, period=WHOLE, today=AFTER_WHOLE, route=route)
    figures(clinic, period=WHOLE, today=AFTER_WHOLE, phase="maintenance", condition="depression")
    # The default period of days inside the cohorts' histories and after them: the stored
    # patients read as their groups' sums once the refresh ran on that day.
    for today in (date(2026, 5, 20), date(2026, 9, 1), date(2027, 3, 1), AFTER_WHOLE):
        figures(clinic, period=default_period(today), today=today)
        figures(clinic, period=default_period(today), today=today, route="im")
        figures(clinic, period=default_period(today), today=today, phase="maintenance")


def group_sums() -> dict[tuple, list[int]]:
    """Each group's stored sums and weeks, without the zeros."""
    sums = {
        (row.group_id, row.code): [int(v) for v in row.figures]
        for row in OutcomeFactsSums.objects.all()
        if any(row.figures)
    }
    weeks = {
        (row.group_id, row.code, row.kind, row.week): [row.patients]
        for row in OutcomeFactsWeeks.objects.exclude(patients=0)
    }
    adherence = {
        (row.group_id, row.first, row.last): [int(v) for v in row.figures]
        for row in OutcomeFactsAdherence.objects.all()
        if any(row.figures)
    }
    patients = {
        (group.pk,): [group.patients] for group in OutcomeFactsGroup.objects.exclude(patients=0)
    }
    return sums | weeks | adherence | patients


def test_the_refresh_moves_patients_between_groups_and_the_sums_match_their_facts(clinic):
    """After any order of writes and refreshes each group's sums are those of the facts
    of its patients stored now, as if each group were summed again from scratch."""
    rng = random.Random(11)
    made = persist(clinic, generated(rng, 40))
    patients = list(made.values())
    doctors = [StaffFactory(clinic=clinic).user, StaffFactory(clinic=clinic).user]
    outcome_facts_refresh()
    for round_ in range(4):
        for patient in rng.sample(patients, 8):
            change = rng.randrange(5)
            if change == 0:
                Patient.objects.filter(pk=patient.pk).update(
                    treatment_phase=rng.choice(["induction", "maintenance"])
                )
            elif change == 1:
                Patient.objects.filter(pk=patient.pk).update(
                    primary_clinician=rng.choice([*doctors, None])
                )
            elif change == 2:
                Patient.objects.filter(pk=patient.pk).update(has_anxiety=rng.random() < 0.5)
            elif change == 3:
                held(patient, FIRST + timedelta(days=rng.randrange(1, 90)), route="im")
            else:
                Assessment.objects.create(
                    patient=patient,
                    instrument="phq9",
                    total=rng.randrange(0, 27),
                    completed_at=FIRST + timedelta(days=rng.randrange(1, 200)),
                    answers={},
                )
        if round_ == 2:
            Patient.objects.filter(pk=patients.pop().pk).delete()
        # Half the marked patients stored in a batch of their own, then the rest.
        outcome_facts_refresh(batch=3, max_batches=2)
        outcome_facts_refresh()

    kept = group_sums()
    # Every patient stored again one by one from scratch, into groups summed anew.
    OutcomeFactsSums.objects.all().delete()
    OutcomeFactsWeeks.objects.all().delete()
    OutcomeFactsAdherence.objects.all().delete()
    OutcomeFactsGroup.objects.update(patients=0)
    PatientOutcomeFacts.objects.update(group=None)
    OutcomeFactsStale.objects.bulk_create(
        OutcomeFactsStale(patient_id=patient.pk) for patient in Patient.objects.all()
    )
    outcome_facts_refresh()
    assert group_sums() == kept
    assert any(key for key in kept if len(key) == 3)  # adherence sums were kept
    # Each stored patient's group is their clinic, clinician, phase, conditions and routes.
    for facts in PatientOutcomeFacts.objects.select_related("patient", "group"):
        patient, group = facts.patient, facts.group
        assert (
            group.clinic_id,
            group.clinician_id,
            group.phase,
            group.has_anxiety,
            group.routes,
        ) == (
            patient.clinic_id,
            patient.primary_clinician_id or 0,
            patient.treatment_phase,
            patient.has_anxiety,
            facts.routes,
        )
    assert not PatientOutcomeFacts.objects.exclude(patient__in=Patient.objects.all()).exists()


@pytest.mark.django_db(transaction=True)
def test_the_page_sums_the_groups_not_each_patient(clinic):
    """Once stored, a patient's facts reach the page of the default period through their
    group's sums and stored adherence: with their questionnaire facts and days removed
    (unmarked), the figures do not move."""
    persist(clinic, generated(random.Random(3), 30))
    outcome_facts_refresh()
    # A day just after every patient's last questionnaire and session: every group stands.
    latest = max(OutcomeFactsGroup.objects.values_list("last_at", flat=True))
    today = latest.astimezone(ZoneInfo(clinic.tz)).date() + timedelta(days=2)
    period = default_period(today)
    before = figures(clinic, period=period, today=today)
    ends_at = Period(*period, clinic.tz).ends_at
    assert not OutcomeFactsGroup.objects.filter(last_at__gte=ends_at).exists()
    assert any(scores.with_baseline for scores in before.instruments)
    assert before.adherence.checkins_done > 0
    InstrumentFacts.objects.all().delete()
    PatientOutcomeFacts.objects.update(checkin_days=None, held_days=None, prepared_days=None)
    data, _ = outcome_data(clinic=clinic, filters=OutcomeFilters(*period), today=today)
    report = outcome_report(data, today=today)
    assert report.instruments == before.instruments
    assert report.adherence == before.adherence
    # The next day the clinic's day has ended: the patients are read one by one (from
    # the rows removed above) until the refresh moves the day on.
    tomorrow = today + timedelta(days=1)
    data, _ = outcome_data(
        clinic=clinic, filters=OutcomeFilters(*default_period(tomorrow)), today=tomorrow
    )
    assert outcome_report(data, today=tomorrow).instruments != before.instruments


@pytest.mark.parametrize("rows", [1, 4, 9])
@pytest.mark.django_db(transaction=True)
def test_the_lowest_shares_of_the_groups_are_those_of_the_cohort(clinic, monkeypatch, rows):
    """Each group offers its lowest check-in shares, ties included, leaving out marked
    patients before it counts them: the page lists the cohort's lowest whatever the cut
    (here at a few rows, with many patients of the same share and name)."""
    monkeypatch.setattr("care.outcomes.selectors.ADHERENCE_ROWS", rows)
    monkeypatch.setattr("tests.care.outcomes_reference.ADHERENCE_ROWS", rows)
    rng = random.Random(21)
    people = generated(rng, 40)
    # Several patients with the same few days of check-ins and the same name: equal shares.
    for n in range(0, 40, 3):
        people[n] = dataclasses.replace(
            people[n],
            name="Same Name",
            checkins=people[0].checkins,
            enrolled_on=people[0].enrolled_on,
        )
    made = persist(clinic, people)
    outcome_facts_refresh()
    latest = max(OutcomeFactsGroup.objects.values_list("last_at", flat=True))
    today = latest.astimezone(ZoneInfo(clinic.tz)).date() + timedelta(days=2)
    figures(clinic, period=default_period(today), today=today)
    # Marked patients among the lowest: the groups count past them.
    lowest = outcome_data(
        clinic=clinic, filters=OutcomeFilters(*default_period(today)), today=today
    )[0].adherence.lowest
    # The lowest check in every day since (marked by the writes): they are no longer lowest.
    days = [today - timedelta(days=n) for n in range(1, 120)]
    for line in lowest:
        patient = Patient.objects.get(pk=line.key)
        taken = set(CheckIn.objects.filter(patient=patient).values_list("local_date", flat=True))
        CheckIn.objects.bulk_create(
            CheckInFactory.build(patient=patient, local_date=d) for d in days if d not in taken
        )
    assert marked() >= {line.key for line in lowest}
    report = figures(clinic, period=default_period(today), today=today)
    assert len(report.adherence.lowest) == min(rows, report.adherence.patients)
    assert len(made) == 40


@pytest.mark.django_db(transaction=True)
def test_the_clinic_day_moves_on_with_every_stored_patient(clinic):
    """The refresh of a new day works out every stored patient's adherence for the new
    default period, in the clinic's own zone; a patient enrolled after its last day is
    stored but not counted."""
    made = persist(clinic, generated(random.Random(6), 25))
    late = persist(clinic, [person(99, enrolled_on=date(2026, 8, 1), phq9=[(-1, 9)])])[99]
    for today in (date(2026, 7, 1), date(2026, 7, 2), date(2026, 8, 1), date(2026, 8, 2)):
        figures(clinic, period=default_period(today), today=today)
        days = OutcomeFactsDay.objects.get(clinic_id=clinic.pk)
        assert (days.first, days.last) == (default_period(today)[0], today - timedelta(days=1))
        assert not PatientOutcomeFacts.objects.exclude(adherence_last=days.last).exists()
    expected = PatientOutcomeFacts.objects.get(patient=late).adherence_expected
    assert expected == 1  # enrolled on 1 August, counted on 2 August for that day
    assert len(made) == 25
    # Just before midnight at the clinic the day has not ended; just after, it has.
    zone = ZoneInfo(clinic.tz)
    outcome_facts_refresh(now=datetime(2026, 8, 2, 23, 59, tzinfo=zone))
    assert OutcomeFactsDay.objects.get(clinic_id=clinic.pk).last == date(2026, 8, 1)
    outcome_facts_refresh(now=datetime(2026, 8, 3, 0, 1, tzinfo=zone))
    assert OutcomeFactsDay.objects.get(clinic_id=clinic.pk).last == date(2026, 8, 2)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("late", [False, True])
def test_patients_moved_after_the_refresh_are_taken_out_of_their_groups(clinic, late):
    """A patient whose phase, clinician, status, conditions or clinic changed after their
    facts were stored is still summed in the group of before until the next refresh: the
    page takes them back out and counts them where they are now, by every filter (on a day
    after everyone's last row, when every group stands, and on one inside the histories)."""
    rng = random.Random(8)
    made = persist(clinic, generated(rng, 50))
    doctor = StaffFactory(clinic=clinic).user
    Patient.objects.filter(pk__in=[p.pk for p in list(made.values())[:20]]).update(
        primary_clinician=doctor
    )
    outcome_facts_refresh()
    latest = max(OutcomeFactsGroup.objects.values_list("last_at", flat=True))
    today = latest.astimezone(ZoneInfo(clinic.tz)).date() + timedelta(days=2)
    if not late:
        today = date(2027, 2, 1)
    outcome_facts_refresh(now=at_noon(clinic, today))
    patients = list(made.values())
    Patient.objects.filter(pk=patients[3].pk).update(clinic=ClinicFactory())
    Patient.objects.filter(pk=patients[4].pk).delete()
    options = [
        {},
        {"phase": "maintenance"},
        {"phase": "induction"},
        {"clinician": doctor.pk},
        {"condition": "anxiety"},
        {"condition": "depression", "route": "iv"},
    ]
    for n, chosen in enumerate(options):
        # Moved since their facts were stored (figures() stores them again after its first
        # check): each round moves them to another group again.
        moving = Patient.objects.filter(pk__in=[p.pk for p in patients[:3] + patients[5:8]])
        for patient in moving:
            Patient.objects.filter(pk=patient.pk).update(
                treatment_phase="maintenance"
                if patient.treatment_phase != "maintenance"
                else "induction",
                primary_clinician=None if patient.primary_clinician_id else doctor,
                has_anxiety=not patient.has_anxiety,
                status="paused" if patient.status == "active" else "active",
            )
        assert len(marked()) >= 6
        if late and n == 0:
            # Their groups stand: the page takes them back out of the sums.
            period = Period(*default_period(today), clinic.tz)
            stored_in = PatientOutcomeFacts.objects.filter(
                patient__in=moving, group__last_at__lt=period.ends_at
            )
            assert stored_in.count() >= 5
        # figures() checks with the marks in place, then again once stored.
        figures(clinic, period=default_period(today), today=today, **chosen)


@pytest.mark.django_db(transaction=True)
def test_a_mark_held_by_a_write_still_open_is_left_for_the_next_refresh(clinic):
    """The refresh skips a mark that a transaction still writing holds: that transaction
    commits with its mark in place, so the patient is stored again later, never from rows
    the refresh could not see."""
    writing, waiting = PatientFactory(clinic=clinic), PatientFactory(clinic=clinic)
    held(writing)
    held(waiting)
    outcome_facts_refresh()
    held(writing, day(3))  # marked, committed
    with other_connection() as other:
        # The other transaction writes a score (marking the patient again: it now holds
        # the mark) and stays open.
        insert_score(other, writing.pk, 4, day(30))
        held(waiting, day(9))
        assert outcome_facts_refresh() == 1  # `waiting`; `writing`'s mark is held
        assert marked() == {writing.pk}
        other.commit()
    assert OutcomeFactsStale.objects.get().marks == 2
    assert outcome_facts_refresh() == 1
    assert InstrumentFacts.objects.get(patient=writing).baseline == 4
    assert PatientOutcomeFacts.objects.get(patient=writing).last_at == day(30)


@pytest.mark.django_db(transaction=True)
def test_the_page_reads_one_snapshot_so_a_refresh_between_its_statements_is_not_read(
    clinic, monkeypatch
):
    """A score after the period's end, written and stored while the page runs, must not
    reach the period's figures through the stored facts the page had decided to read."""
    made = persist(clinic, [person(1, phq9=[(-1, 20), (10, 15)])])
    outcome_facts_refresh()
    period = (date(2025, 12, 1), date(2026, 2, 10))
    assert stored(clinic, period) == {made[1].pk}
    original = outcome_sql.instrument_rows

    def after_a_late_score_and_a_refresh(cursor, *args, **kwargs):
        with other_connection() as other, other.cursor() as cursor_of_other:
            insert_score(other, made[1].pk, 2, day(40))
            other.commit()
            ids = outcome_sql.claim_stale(cursor_of_other, limit=10)
            outcome_sql.store_facts(
                cursor_of_other,
                ids,
                codes=["phq9", "gad7"],
                remission=[("phq9", 5), ("gad7", 5)],
                points=POINT_WINDOWS,
                weeks=27,
                rules=ADHERENCE_RULES,
            )
            other.commit()
            stored_now = other.execute(
                "SELECT point_1 FROM care_outcomefacts_instrument WHERE patient_id = %s",
                [made[1].pk],
            ).fetchone()
        assert stored_now == (2,)  # committed, but after the page's snapshot
        return original(cursor, *args, **kwargs)

    monkeypatch.setattr(outcome_sql, "instrument_rows", after_a_late_score_and_a_refresh)
    phq9 = outcome_data(clinic=clinic, filters=OutcomeFilters(*period), today=date(2026, 2, 11))[
        0
    ].instruments[0]
    assert phq9.points[0] == PointCounts(0, 0, 0)  # day 40 is after the period
    assert phq9.changes.get(5) is None


@pytest.mark.django_db(transaction=True)
def test_a_clinic_day_moves_on_after_a_batch_storing_its_patients_never_beside_it(clinic):
    """A batch holds its patients' clinic days until it commits: the day moves on after it
    (a batch stores adherence for the day it holds), and a refresh that cannot take the day
    in time leaves it for the next run without failing."""
    persist(clinic, [person(1, phq9=[(-1, 20)], checkins=(date(2026, 2, 20),))])
    today = date(2026, 3, 1)
    outcome_facts_refresh(now=at_noon(clinic, today))
    day_row = OutcomeFactsDay.objects.get(clinic_id=clinic.pk)
    assert day_row.last == today - timedelta(days=1)
    tomorrow = today + timedelta(days=1)
    with other_connection() as other:
        ids = [p.pk for p in Patient.objects.all()]
        other.execute(outcome_sql.HOLD_DAYS, {"ids": ids, "day_lock": outcome_sql.DAY_LOCK})
        assert move_days(at_noon(clinic, tomorrow)) == 0  # waited 500 ms, then left it
        other.rollback()
    assert OutcomeFactsDay.objects.get(clinic_id=clinic.pk).last == today - timedelta(days=1)
    assert move_days(at_noon(clinic, tomorrow)) == 1
    assert OutcomeFactsDay.objects.get(clinic_id=clinic.pk).last == today
    assert set(PatientOutcomeFacts.objects.values_list("adherence_last", flat=True)) == {today}
    assert move_days(at_noon(clinic, tomorrow)) == 0  # nothing to move the same day


@pytest.mark.django_db(transaction=True)
def test_the_refresh_gives_up_a_batch_it_cannot_lock_and_leaves_it_marked(clinic):
    made = persist(clinic, [person(1, phq9=[(-1, 20)]), person(2, phq9=[(-1, 12)])])
    outcome_facts_refresh()
    AssessmentFactory(patient=made[1], completed_at=day(3))
    with other_connection() as other:
        # Another transaction holds the patient's facts (a deletion of the patient, say).
        other.execute("DELETE FROM care_outcomefacts_patient WHERE patient_id = %s", [made[1].pk])
        assert outcome_facts_refresh() == 0  # waited 500 ms, then left it
        other.rollback()
    assert marked() == {made[1].pk}
    assert outcome_facts_refresh() == 1


def test_a_patient_whose_facts_fail_is_logged_and_stays_marked_the_others_are_stored(
    clinic, caplog
):
    made = persist(clinic, [person(key, phq9=[(-1, 10)]) for key in (1, 2, 3)])
    # A zone the database does not know (written past the model's validation).
    Patient.objects.filter(pk=made[2].pk).update(tz="Nowhere/Atlantis")
    assert outcome_facts_refresh() == 2
    assert marked() == {made[2].pk}
    assert f"Outcome facts of patient {made[2].pk} could not be stored" in caplog.text
    # Only the error's class: a database message may quote a row's values.
    assert "Atlantis" not in caplog.text
    assert "DataError" in caplog.text or "InvalidParameterValue" in caplog.text
    assert set(PatientOutcomeFacts.objects.values_list("patient_id", flat=True)) == {
        made[1].pk,
        made[3].pk,
    }


def _days(bits: str | None, origin: date, first: date, last: date) -> int:
    if bits is None:
        return 0
    return sum(
        1 for i, bit in enumerate(bits) if bit == "1" and first <= origin + timedelta(i) <= last
    )


def _window(bits: str | None, origin: date, first: date, length: int) -> str:
    return "".join(
        "1"
        if bits
        and 0 <= (first - origin).days + i < len(bits)
        and bits[(first - origin).days + i] == "1"
        else "0"
        for i in range(length)
    )


def test_the_day_string_functions_count_and_cut_as_days():
    origin = date(2026, 3, 10)
    strings = [None, "", "1", "0110100001", "1" * 40]
    offsets = [-30, -5, -1, 0, 1, 3, 9, 10, 11, 45]
    with connection.cursor() as cursor:
        for bits in strings:
            for start in offsets:
                first = origin + timedelta(start)
                for span in (0, 1, 5, 14, 60):
                    last = first + timedelta(span - 1)
                    cursor.execute(
                        "SELECT outcome_days(%s::varbit, %s, %s, %s),"
                        " outcome_window(%s::varbit, %s, %s, %s)::text",
                        [bits, origin, first, last, bits, origin, first, span],
                    )
                    counted, window = cursor.fetchone()
                    assert counted == _days(bits, origin, first, last), (bits, start, span)
                    assert window == _window(bits, origin, first, span), (bits, start, span)


def test_the_stored_definitions_are_those_of_the_domain():
    """The stored facts hold the definitions' windows, weeks and leads: a change to any of
    them needs a migration that marks every patient (docs/operations.md, Stored outcome
    facts), and then this record of them changes with it."""
    from care.domain import outcomes

    assert (
        [(p.first_day, p.last_day) for p in outcomes.TIME_POINTS],
        outcomes.LAST_WEEK,
        outcomes.QUESTIONNAIRE_LEAD,
        outcomes.BLOCK_DAYS,
        outcomes.INSTRUMENT_CODES,
    ) == ([(21, 42), (70, 112), (154, 210)], 26, timedelta(hours=48), 14, ("phq9", "gad7"))
