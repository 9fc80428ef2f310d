"""The outcome definitions, case by case and on generated cohorts, as the database computes
them (`care.outcomes.sql`), each figure also held equal to the plain-Python definitions that
read every row (`tests/care/outcomes_reference.py`, the code before the database summed)."""

import dataclasses
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from care.domain.outcomes import OutcomeReport, outcome_report
from care.models import Assessment, CheckIn, Patient, TreatmentSession, User
from care.outcomes.selectors import OutcomeFilters, outcome_data
from care.outcomes.services import outcome_facts_refresh
from tests.care.outcomes_reference import reference_data
from tests.factories import CheckInFactory

pytestmark = pytest.mark.django_db

FIRST = datetime(2026, 1, 5, 10, tzinfo=UTC)  # every patient's first held session
PERIOD = (date(2025, 12, 1), date(2026, 11, 30))
TODAY = date(2026, 12, 15)


def day(n: int, hour: int = 12) -> datetime:
    """`n` days after the first session's day, at `hour` (UTC)."""
    return FIRST.replace(hour=hour) + timedelta(days=n)


@dataclass
class Person:
    key: int = 1
    name: str = ""
    tz: str = "UTC"
    status: str = "active"
    phase: str = "induction"
    enrolled_on: date = date(2025, 12, 20)
    first_held_at: datetime | None = FIRST
    instruments: tuple[str, ...] = ("phq9",)
    scores: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)
    held: tuple[datetime, ...] = ()  # more held sessions
    completions: tuple[tuple[str, datetime], ...] = ()  # questionnaires without a total
    checkins: tuple[date, ...] = ()


def person(key=1, *, phq9=(), gad7=(), **fields) -> Person:
    scores = {"phq9": [(day(n), t) for n, t in phq9], "gad7": [(day(n), t) for n, t in gad7]}
    return Person(key=key, scores=fields.pop("scores", scores), **fields)


def persist(clinic, people) -> dict[int, Patient]:
    """The people as rows: a patient, their held sessions, questionnaires and check-ins."""
    made = {}
    for p in people:
        user = User.objects.create(
            email=f"p{p.key}-{random.random()}@example.org",
            full_name=p.name or f"Patient {p.key:04d}",
            password="!",
        )
        zone = ZoneInfo(p.tz)
        patient = Patient.objects.create(
            user=user,
            clinic=clinic,
            preferred_name=f"P{p.key}",
            date_of_birth=date(1980, 1, 1),
            consultation_on=p.enrolled_on,
            tz=p.tz,
            status=p.status,
            treatment_phase=p.phase,
            enrolled_at=datetime.combine(p.enrolled_on, time(9), zone),
            questionnaires=list(p.instruments),
            has_depression=True,
        )
        held = ((p.first_held_at,) if p.first_held_at else ()) + p.held
        TreatmentSession.objects.bulk_create(
            TreatmentSession(patient=patient, scheduled_at=at, route="iv", status="completed")
            for at in held
        )
        Assessment.objects.bulk_create(
            [
                Assessment(patient=patient, instrument=code, total=t, completed_at=at, answers={})
                for code, points in p.scores.items()
                for at, t in points
            ]
            + [
                Assessment(
                    patient=patient, instrument=code, total=None, completed_at=at, answers={}
                )
                for code, at in p.completions
            ]
        )
        CheckIn.objects.bulk_create(
            CheckInFactory.build(patient=patient, local_date=d) for d in p.checkins
        )
        made[p.key] = patient
    return made


def _comparable(report: OutcomeReport) -> OutcomeReport:
    adherence = report.adherence
    return dataclasses.replace(
        report,
        adherence=dataclasses.replace(
            adherence, dropped=tuple(sorted(adherence.dropped, key=lambda r: r.key))
        ),
    )


def figures(clinic, *, period=PERIOD, today=TODAY, **filters) -> OutcomeReport:
    """The report of the clinic's cohort, checked equal to the plain-Python definitions:
    first with the patients' facts worked out from their rows (as marked by the triggers),
    then from the facts stored for them, the refresh run on `today` (for the default period
    of that day, the stored patients are read as their groups' sums)."""
    chosen = OutcomeFilters(*period, **filters)
    expected, expected_members = reference_data(clinic=clinic, filters=chosen, today=today)
    expected_report = _comparable(outcome_report(expected, today=today))
    for _ in ("as marked", "as stored"):
        data, members = outcome_data(clinic=clinic, filters=chosen, today=today)
        report = outcome_report(data, today=today)
        assert _comparable(report) == expected_report
        assert members == expected_members
        outcome_facts_refresh(now=at_noon(clinic, today))
    return report


def at_noon(clinic, today: date) -> datetime:
    return datetime.combine(today, time(12), ZoneInfo(clinic.tz))


def phq9_of(clinic, *people, **options):
    persist(clinic, people)
    return figures(clinic, **options).instruments[0]


def at_point(outcomes, key):
    [tp] = [tp for tp in outcomes.time_points if tp.point.key == key]
    return tp.with_baseline, tp.scored, tp.responders, tp.remitters


# Baseline, time points, response and remission


def test_patients_without_a_baseline_are_left_out_and_counted(clinic):
    with_baseline = person(1, phq9=[(-3, 20), (30, 10)])
    first_scored_after = person(2, phq9=[(10, 15), (30, 5)])  # no score before the session
    never = person(3, phq9=[], gad7=[(-2, 12)])

    phq9 = phq9_of(clinic, with_baseline, first_scored_after, never)

    assert (phq9.with_baseline, phq9.no_baseline, phq9.never_scored) == (1, 1, 1)
    assert at_point(phq9, "induction_end") == (1, 1, 1, 0)


def test_a_score_on_the_first_session_day_is_a_baseline_only_if_taken_at_or_before_it(clinic):
    after = person(1, phq9=[(0, 18)])  # at noon; the session began at 10:00
    before = person(2, scores={"phq9": [(FIRST - timedelta(hours=1), 18)]})
    exactly = person(3, scores={"phq9": [(FIRST, 18), (day(30), 9)]})  # at its start

    phq9 = phq9_of(clinic, after, before, exactly)

    assert (phq9.with_baseline, phq9.no_baseline) == (2, 1)
    # The score taken at the session's start is the baseline, not a score after it.
    assert at_point(phq9, "induction_end") == (2, 1, 1, 0)


def test_each_time_point_takes_the_latest_score_in_its_window(clinic):
    patient = person(phq9=[(-3, 20), (25, 8), (40, 12), (90, 4), (180, 5)])

    phq9 = phq9_of(clinic, patient)

    assert at_point(phq9, "induction_end") == (1, 1, 0, 0)  # 12 on day 40, not 8 on day 25
    assert at_point(phq9, "month_3") == (1, 1, 1, 1)  # 4: response and remission
    assert at_point(phq9, "month_6") == (1, 1, 1, 0)  # 5: response, not remission


@pytest.mark.parametrize(
    ("score_day", "inside"),
    [(20, False), (21, True), (42, True), (43, False), (69, False), (70, True), (112, True)],
)
def test_window_edges(clinic, score_day, inside):
    phq9 = phq9_of(clinic, person(phq9=[(-1, 20), (score_day, 6)]))

    assert sum(tp.scored for tp in phq9.time_points) == (1 if inside else 0)


def test_window_edges_are_the_patients_local_days(clinic):
    # 23:30 in Los Angeles on day 42 is day 43 in UTC: still inside the window there.
    zone = ZoneInfo("America/Los_Angeles")
    first = datetime(2026, 1, 5, 10, tzinfo=zone)
    late = datetime.combine(first.date() + timedelta(days=42), time(23, 30), zone)
    patient = person(
        tz="America/Los_Angeles",
        first_held_at=first,
        scores={"phq9": [(first - timedelta(days=1), 20), (late, 6)]},
    )

    assert at_point(phq9_of(clinic, patient), "induction_end") == (1, 1, 1, 0)


@pytest.mark.parametrize(
    ("baseline", "score", "response", "remission"),
    [
        (20, 10, True, False),  # exactly 50% below: a response
        (20, 11, False, False),  # 45% below
        (9, 4, True, True),  # 4.5 is half of 9: 4 is below it; 4 is below 5
        (9, 5, False, False),  # 5 is above 4.5; 5 is not below 5
        (8, 4, True, True),  # exactly half, and below 5
        (0, 0, False, True),  # a baseline of 0 cannot respond; 0 is a remission
    ],
)
def test_response_and_remission_boundaries(clinic, baseline, score, response, remission):
    phq9 = phq9_of(clinic, person(phq9=[(-1, baseline), (30, score)]))

    assert at_point(phq9, "induction_end") == (1, 1, int(response), int(remission))


def test_patients_discharged_early_are_absent_from_later_time_points(clinic):
    stayed = person(1, phq9=[(-2, 20), (30, 9), (80, 6), (160, 3)])
    discharged = person(2, status="discharged", phase="discharged", phq9=[(-2, 18), (28, 15)])

    phq9 = phq9_of(clinic, stayed, discharged)

    assert at_point(phq9, "induction_end") == (2, 2, 1, 0)
    assert at_point(phq9, "month_3") == (2, 1, 1, 0)  # "1 with a score of 2 with a baseline"
    assert at_point(phq9, "month_6") == (2, 1, 1, 1)


def test_gad7_is_counted_apart_from_phq9(clinic):
    persist(clinic, [person(phq9=[(-1, 20), (30, 15)], gad7=[(-1, 12), (30, 4)])])

    phq9, gad7 = figures(clinic).instruments

    assert (phq9.code, gad7.code) == ("phq9", "gad7")
    assert at_point(phq9, "induction_end") == (1, 1, 0, 0)
    assert at_point(gad7, "induction_end") == (1, 1, 1, 1)


def test_scores_after_the_end_of_the_period_are_not_used(clinic):
    patient = person(phq9=[(-1, 20), (30, 8)])

    phq9 = phq9_of(clinic, patient, period=(PERIOD[0], day(29).date()))

    assert at_point(phq9, "induction_end") == (1, 0, 0, 0)


def test_a_corrected_score_counts_once_with_its_correction(clinic):
    made = persist(clinic, [person(phq9=[(-1, 20), (30, 15)])])
    wrong = Assessment.objects.get(patient=made[1], total=15)
    Assessment.objects.create(
        patient=made[1],
        instrument="phq9",
        total=8,
        completed_at=wrong.completed_at,
        answers={},
        supersedes=wrong,
    )

    assert at_point(figures(clinic).instruments[0], "induction_end") == (1, 1, 1, 0)


# Time to first response (Kaplan-Meier)


def km_cohort():
    return [
        person(1, phq9=[(-1, 20), (1, 19), (3, 15), (14, 10)]),  # responds in week 2
        person(2, phq9=[(-1, 20), (3, 18), (10, 16)]),  # last seen week 1: censored
        person(3, phq9=[(-1, 20), (20, 9)]),  # responds in week 2
        person(4, phq9=[(-1, 20), (30, 15), (60, 12)]),  # last seen week 8: censored
        person(5, phq9=[(-1, 20), (50, 10)]),  # responds in week 7
        person(6, phq9=[(-1, 20)]),  # never seen after baseline: not at risk
        person(7, phq9=[(2, 20), (9, 5)]),  # no baseline: left out
    ]


def test_time_to_first_response_is_a_kaplan_meier_curve_censored_at_the_last_score(clinic):
    weeks = phq9_of(clinic, *km_cohort()).time_to_response

    table = {w.week: (w.at_risk, w.responded, w.censored, w.cumulative) for w in weeks}
    assert [w.week for w in weeks] == list(range(27))
    assert table[0] == (5, 0, 0, 0)
    assert table[1] == (5, 0, 1, 0)
    assert table[2] == (4, 2, 0, Fraction(1, 2))
    assert table[3] == (2, 0, 0, Fraction(1, 2))
    assert table[7] == (2, 1, 0, Fraction(3, 4))
    assert table[8] == (1, 0, 1, Fraction(3, 4))
    assert table[9] == (0, 0, 0, Fraction(3, 4))
    assert table[26] == (0, 0, 0, Fraction(3, 4))


def test_patients_seen_after_week_26_stay_at_risk_to_the_end(clinic):
    early = person(1, phq9=[(-1, 20), (5, 18), (200, 17)])
    only_late = person(2, phq9=[(-1, 20), (300, 17)])  # a year on: still at risk to the end
    responds_late = person(3, phq9=[(-1, 20), (250, 6)])

    weeks = phq9_of(clinic, early, only_late, responds_late).time_to_response

    assert [w.at_risk for w in weeks] == [3] * 27
    assert sum(w.censored for w in weeks) == sum(w.responded for w in weeks) == 0


# Mean change from baseline by week


def test_mean_change_by_week_uses_each_patients_latest_score_that_week(clinic):
    change = phq9_of(clinic, *km_cohort()).mean_change

    table = {w.week: (w.patients, w.mean) for w in change}
    assert table[0] == (2, Fraction(-7, 2))  # patient 1: 15 (latest of 19, 15); patient 2: 18
    assert table[1] == (1, Fraction(-4))
    assert table[2] == (2, Fraction(-21, 2))
    assert table[4] == (1, Fraction(-5))
    assert table[7] == (1, Fraction(-10))
    assert table[8] == (1, Fraction(-8))
    assert table[3] == (0, None)


# Adherence


def days(first: date, count: int, *, skip=()) -> tuple[date, ...]:
    return tuple(
        first + timedelta(days=n) for n in range(count) if first + timedelta(days=n) not in skip
    )


@pytest.mark.parametrize(
    ("earlier", "recent", "dropped"),
    [
        ((3, 4), 7, True),  # 75% -> 50%: exactly 25 points
        ((3, 4), 8, False),  # 75% -> 57.1%: 17.9 points
        ((7, 14), 3, True),  # 50% -> 21.4%: 28.6 points
        ((7, 14), 4, False),  # 50% -> 28.6%: 21.4 points
        ((6, 14), 0, False),  # 42.9% before: below 50%, not counted
        ((14, 14), 10, True),  # 100% -> 71.4%: 28.6 points
        ((14, 14), 11, False),  # 100% -> 78.6%: 21.4 points
        ((0, 0), 0, False),  # no earlier days (just enrolled)
    ],
)
def test_adherence_dropped_at_its_boundaries(clinic, earlier, recent, dropped):
    # The last 14 days (18-31 March) and the 14 before; enrolled in time for `earlier[1]`
    # of those.
    last = date(2026, 3, 31)
    recent_first = last - timedelta(days=13)
    enrolled = recent_first - timedelta(days=earlier[1])
    patient = person(
        enrolled_on=enrolled,
        first_held_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
        checkins=days(enrolled, earlier[0]) + days(recent_first, recent),
    )
    persist(clinic, [patient])

    period = (date(2026, 3, 1), last)
    adherence = figures(clinic, period=period, today=date(2026, 4, 10)).adherence

    [row] = adherence.lowest
    assert (row.earlier_done, row.earlier_expected, row.recent_done) == (*earlier, recent)
    assert row.dropped is dropped and len(adherence.dropped) == int(dropped)


def test_checkin_adherence_from_enrolment_to_yesterday_with_the_drop_rule(clinic):
    period = (date(2026, 3, 1), date(2026, 3, 31))
    today = date(2026, 4, 10)  # last day counted: 31 March
    march = date(2026, 3, 1)
    enrolled = date(2026, 2, 1)
    steady = person(1, enrolled_on=enrolled, checkins=days(march, 31))
    dropping = person(  # every day to 17 March, then 3 of the last 14
        2, enrolled_on=enrolled, checkins=days(march, 17) + days(date(2026, 3, 29), 3)
    )
    enrolled_late = person(  # 10 March: 22 days expected, 8 of 8 earlier, 7 of 14 since
        3, enrolled_on=date(2026, 3, 10), checkins=days(date(2026, 3, 10), 8) + days(
            date(2026, 3, 18), 7)
    )  # fmt: skip
    paused = person(4, enrolled_on=enrolled, status="paused", checkins=days(march, 1))
    before = person(5, enrolled_on=enrolled, checkins=(date(2026, 2, 28),))  # not counted
    made = persist(clinic, [steady, dropping, enrolled_late, paused, before])

    adherence = figures(clinic, period=period, today=today).adherence

    rows = {r.key: r for r in adherence.lowest}
    assert set(rows) == {made[k].pk for k in (1, 2, 3, 5)} and adherence.left_out == 1
    one, two, late = rows[made[1].pk], rows[made[2].pk], rows[made[3].pk]
    assert (one.checkins_done, one.checkins_expected, one.dropped) == (31, 31, False)
    assert (two.recent_done, two.earlier_done, two.dropped) == (3, 14, True)
    assert (late.checkins_expected, late.earlier_expected, late.recent_expected) == (22, 8, 14)
    assert late.dropped  # 8/8 before, 7/14 since: 50 points down
    assert (adherence.checkins_done, adherence.checkins_expected) == (31 + 20 + 15, 4 * 31 - 9)
    assert {r.key for r in adherence.dropped} == {made[2].pk, made[3].pk}
    assert adherence.with_earlier_share == 4
    # Lowest share first: none of 31, then 20 of 31 (64.5%), 15 of 22 (68.2%), 31 of 31.
    assert [r.key for r in adherence.lowest] == [made[k].pk for k in (5, 2, 3, 1)]


def test_questionnaire_adherence_before_sessions_and_in_maintenance_blocks(clinic):
    period = (date(2026, 3, 1), date(2026, 4, 4))  # 35 days: two full blocks and 7 days
    session = datetime(2026, 3, 5, 10, tzinfo=UTC)
    later = datetime(2026, 3, 8, 10, tzinfo=UTC)
    completions = (
        ("phq9", session - timedelta(hours=48)),  # exactly 48 h before: counts
        ("pcl5", later - timedelta(hours=2)),  # not one of this patient's questionnaires
        ("phq9", later - timedelta(hours=49)),  # too early for the session on 8 March
        ("phq9", datetime(2026, 3, 20, 18, tzinfo=UTC)),  # in the second block (15-28 March)
        ("phq9", datetime(2026, 4, 2, 18, tzinfo=UTC)),  # in the part block: not expected
        ("phq9", datetime(2026, 2, 27, 18, tzinfo=UTC)),  # before the first block
    )
    common = {"instruments": ("phq9",), "held": (session, later), "completions": completions}
    made = persist(
        clinic,
        [person(1, phase="maintenance", **common), person(2, phase="induction", **common)],
    )

    rows = {
        r.key: r for r in figures(clinic, period=period, today=date(2026, 4, 5)).adherence.lowest
    }

    maintenance, induction = rows[made[1].pk], rows[made[2].pk]
    assert (maintenance.questionnaires_done, maintenance.questionnaires_expected) == (2, 3)
    assert (induction.questionnaires_done, induction.questionnaires_expected) == (1, 2)


@pytest.mark.parametrize(("length", "blocks"), [(13, 0), (14, 1), (27, 1), (28, 2), (41, 2)])
def test_only_full_14_day_blocks_expect_a_questionnaire(clinic, length, blocks):
    first = date(2026, 3, 1)
    persist(clinic, [person(phase="maintenance")])
    period = (first, first + timedelta(days=length - 1))

    adherence = figures(clinic, period=period, today=period[1] + timedelta(days=1)).adherence

    assert (adherence.questionnaires_done, adherence.questionnaires_expected) == (0, blocks)


def test_the_care_teams_choice_of_questionnaires_or_the_conditions_decide_which_count(clinic):
    session = datetime(2026, 3, 5, 10, tzinfo=UTC)
    gad7 = (("gad7", session - timedelta(hours=3)),)
    chosen = person(1, instruments=("gad7",), held=(session,), completions=gad7)
    by_condition = person(2, instruments=(), held=(session,), completions=gad7)  # depression
    made = persist(clinic, [chosen, by_condition])

    period = (date(2026, 3, 1), date(2026, 3, 31))
    rows = {
        r.key: r for r in figures(clinic, period=period, today=date(2026, 4, 1)).adherence.lowest
    }

    assert rows[made[1].pk].questionnaires_done == 1
    assert rows[made[2].pk].questionnaires_done == 0  # PHQ-9 expected, a GAD-7 done


# Generated cohorts: the database's figures equal the plain definitions


ZONES = ["UTC", "America/New_York", "America/Los_Angeles", "Australia/Sydney", "Asia/Kolkata"]


def generated(rng: random.Random, count: int) -> list[Person]:
    """Patients with the edge cases the definitions turn on: no baseline, a baseline of 0,
    exactly 50% below, scores on the windows' edges and at the first session's instant,
    late enrolment, maintenance blocks, paused and discharged patients, other zones."""
    people = []
    for key in range(1, count + 1):
        tz = rng.choice(ZONES)
        zone = ZoneInfo(tz)
        first = datetime(2026, 1, 1, 10, tzinfo=zone) + timedelta(
            days=rng.randrange(0, 200), minutes=rng.randrange(0, 600)
        )
        scores = {}
        for code in ("phq9", "gad7"):
            kind = rng.random()
            base = rng.choice([0, 1, 8, 9, 10, 20, 27])
            points = []
            if kind > 0.15:  # else: never scored, or only after the first session
                at = first if kind < 0.25 else first - timedelta(hours=rng.randrange(1, 200))
                points.append((at, base))
            edges = [0, 6, 7, 20, 21, 42, 43, 69, 70, 112, 113, 153, 154, 188, 189, 210, 211, 300]
            for n in rng.sample(edges, rng.randrange(0, 8)) + [
                rng.randrange(0, 240) for _ in range(rng.randrange(0, 6))
            ]:
                hour = rng.choice([0, 9, 23]) if n else rng.choice([11, 23])
                at = datetime.combine(first.date() + timedelta(days=n), time(hour, 30), zone)
                if at <= first:
                    continue
                total = rng.choice([base // 2, base // 2 + 1, 4, 5, max(base - 1, 0), base])
                points.append((at + timedelta(seconds=len(points)), total))
            scores[code] = points
        sessions = tuple(
            first + timedelta(days=rng.randrange(1, 300), hours=rng.randrange(0, 5))
            for _ in range(rng.randrange(0, 6))
        )
        completions = tuple(
            (
                rng.choice(["phq9", "gad7", "pcl5"]),
                (rng.choice(sessions) - timedelta(hours=rng.choice([0, 1, 47, 48, 49])))
                if sessions and rng.random() < 0.6
                else first + timedelta(days=rng.randrange(0, 300), hours=rng.randrange(24)),
            )
            for _ in range(rng.randrange(0, 8))
        )
        status = rng.choice(["active"] * 6 + ["paused", "discharged"])
        enrolled = first.date() - timedelta(days=rng.choice([0, 3, 30]))
        checkin_days = tuple(
            enrolled + timedelta(days=n)
            for n in range(0, 330)
            if rng.random() < rng.choice([0.2, 0.7, 0.95])
        )
        people.append(
            Person(
                key=key,
                name=rng.choice(["Ana", "ana", "Zoë", "Bea", "Émile", "Bea"]) + f" {key % 7}",
                tz=tz,
                status=status,
                phase="discharged"
                if status == "discharged"
                else rng.choice(["induction", "maintenance"]),
                enrolled_on=enrolled,
                first_held_at=first if rng.random() > 0.05 else None,
                instruments=tuple(rng.sample(["phq9", "gad7", "pcl5"], rng.randrange(0, 3))),
                scores=scores,
                held=sessions,
                completions=completions,
                checkins=checkin_days,
            )
        )
    return people


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_cohorts_give_the_figures_of_the_plain_definitions(clinic, seed):
    rng = random.Random(seed)
    persist(clinic, generated(rng, 60))

    for period, today in [
        (PERIOD, TODAY),  # the whole follow-up
        ((date(2026, 3, 1), date(2026, 8, 31)), date(2026, 9, 15)),  # a past half-year
        ((date(2026, 5, 10), date(2026, 12, 31)), date(2026, 6, 20)),  # a period not over
        ((date(2026, 1, 1), date(2026, 1, 20)), date(2026, 1, 2)),  # nothing before today
    ]:
        report = figures(clinic, period=period, today=today)
        assert report.patients > 0
    for phase in ("maintenance", "induction"):
        figures(clinic, phase=phase)
    assert figures(clinic).instruments[0].with_baseline > 10  # the cases are there
