"""The caseload's two hand-written reads (care.caseload.selectors.CaseloadSequence).

OVERVIEW: how many patients the filters leave, and the open alerts among them (with each
patient's name, for the "attention first" order, which the selector works out).

PAGE: the page's patients (those needing attention given by the selector, then the others by
name from where the page starts) and what each row shows: the patient and account fields,
the primary clinician's name, the last check-in day, the next booked session, the first held
session, the unread messages, the moods of the last days, and of each summarised
questionnaire the first kept score and the latest two (kept: with a total and not corrected
by a later one).

Two round trips and no query to build: on the caseload page, building and compiling the
ORM's statements cost more than running them (docs/benchmarks.md, the caseload page). The
filters are fixed SQL with the values as parameters (Django's cursor inlines them, so the
planner drops the conditions of the filters not chosen).

Table and column names are the models' (a migration that renames one breaks this statement
loudly, and the caseload tests run it on PostgreSQL); values travel as parameters.
"""

from datetime import date, datetime
from typing import NamedTuple
from uuid import UUID

from django.db import connection

from care.models import Patient


class CaseloadPatient(NamedTuple):
    """A caseload row's patient: what the page and the caseload API show of them."""

    pk: int
    public_id: UUID
    preferred_name: str
    status: str
    treatment_phase: str
    tz: str
    has_depression: bool
    has_anxiety: bool
    has_ptsd: bool
    phone_mobile: str
    phone_other: str
    full_name: str
    is_active: bool  # the account: False until the patient accepted the invitation
    primary_clinician: str  # as the clinician's account reads (User.__str__), or ""

    @property
    def name(self) -> str:
        """As the patient reads on staff pages (Patient.__str__)."""
        return self.full_name or self.preferred_name

    @property
    def conditions(self) -> list[str]:
        """Labels of the conditions being treated, in a fixed order (Patient.conditions)."""
        return [str(label) for flag, label in Patient.CONDITION_LABELS if getattr(self, flag)]

    @property
    def phone(self) -> str:
        """The number to call the patient on: the mobile, else the other (or empty)."""
        return self.phone_mobile or self.phone_other


class PageFacts(NamedTuple):
    patient: CaseloadPatient
    last_checkin_on: date | None
    next_session_at: datetime | None
    first_treatment_at: datetime | None
    unread_messages: int
    # The check-ins since the day asked for: their days, oldest first, and moods.
    mood_days: list[date]
    moods: list[int]
    # Of each questionnaire: its first kept score and its latest two, each once, by time
    # (of two at one instant, the one stored later counts as the later), as (at, total).
    scores: dict[str, list[tuple[datetime, int]]]


# The filtered patients (care.caseload.selectors.CaseloadFilters; a name searched for as
# Django's icontains does it, on the account's full name or the preferred name).
FILTERS = """
    p.clinic_id = %(clinic)s
    AND (%(status)s = '' OR p.status = %(status)s)
    AND (%(clinician)s::bigint IS NULL OR p.primary_clinician_id = %(clinician)s::bigint)
    AND (%(phase)s = '' OR p.treatment_phase = %(phase)s)
    AND (NOT %(depression)s OR p.has_depression)
    AND (NOT %(anxiety)s OR p.has_anxiety)
    AND (NOT %(ptsd)s OR p.has_ptsd)
    AND (%(search)s = '' OR UPPER(p.preferred_name::text) LIKE UPPER(%(search)s) OR EXISTS (
        SELECT 1 FROM care_user s
        WHERE s.id = p.user_id AND UPPER(s.full_name::text) LIKE UPPER(%(search)s)
    ))
"""

# The count (a row with no patient) and the open alerts of the filtered patients.
_OVERVIEW = """
SELECT NULL::bigint, NULL, NULL, NULL, count(*) FROM care_patient p WHERE {filters}
UNION ALL
SELECT a.patient_id, a.kind, a.priority, u.full_name, NULL
FROM care_alert a
-- (Each open alert's patient looked up by key: a join let the planner read them all.)
CROSS JOIN LATERAL (
    SELECT p.user_id FROM care_patient p WHERE p.id = a.patient_id AND {filters} LIMIT 1
) p
CROSS JOIN LATERAL (SELECT u.full_name FROM care_user u WHERE u.id = p.user_id LIMIT 1) u
WHERE a.acknowledged_at IS NULL
"""
OVERVIEW = _OVERVIEW.format(filters=FILTERS)

# Of each summarised questionnaire (care.caseload.selectors.SCORED), its first kept score
# and its latest two (ids, times and totals as arrays, newest first). The codes are the
# module's constants, never a user's input.
_KEPT = """
    FROM care_assessment a
    WHERE a.patient_id = p.id AND a.instrument = '{code}' AND a.total IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM care_assessment x WHERE x.supersedes_id = a.id)
"""
_SCORES = """
LEFT JOIN LATERAL (
    SELECT array_agg(k.completed_at ORDER BY k.completed_at, k.id) AS ats,
           array_agg(k.total ORDER BY k.completed_at, k.id) AS totals
    FROM (
        (SELECT a.id, a.completed_at, a.total {kept} ORDER BY a.completed_at, a.id LIMIT 1)
        UNION
        (SELECT a.id, a.completed_at, a.total {kept}
         ORDER BY a.completed_at DESC, a.id DESC LIMIT 2)
    ) k
) {code} ON true
"""

PAGE = """
WITH rest AS (
    -- The next patients by name from where the page starts, those needing attention left
    -- out (the database walks the name index and stops at the page's end; the tie-break is
    -- the account's key: one account, one patient), numbered in that order.
    SELECT n.id, row_number() OVER (ORDER BY n.full_name, n.user_id) AS place
    FROM (
        SELECT p.id, u.full_name, p.user_id
        FROM care_patient p JOIN care_user u ON u.id = p.user_id
        WHERE p.id <> ALL(%(attention)s::bigint[]) AND {filters}
        ORDER BY u.full_name, p.user_id OFFSET %(skip)s LIMIT %(wanted)s
    ) n
),
page AS (
    SELECT c.id, c.place FROM unnest(%(chosen)s::bigint[]) WITH ORDINALITY AS c (id, place)
    UNION ALL
    SELECT rest.id, cardinality(%(chosen)s::bigint[]) + rest.place FROM rest
)
SELECT
    p.id, p.public_id, p.preferred_name, p.status, p.treatment_phase, p.tz,
    p.has_depression, p.has_anxiety, p.has_ptsd, p.phone_mobile, p.phone_other,
    u.full_name, u.is_active, coalesce(nullif(c.full_name, ''), c.email, ''),
    (SELECT k.local_date FROM care_checkin k WHERE k.patient_id = p.id
     ORDER BY k.local_date DESC LIMIT 1),
    (SELECT s.scheduled_at FROM care_treatmentsession s
     WHERE s.patient_id = p.id AND s.status = 'scheduled' AND s.scheduled_at >= %(now)s
     ORDER BY s.scheduled_at LIMIT 1),
    (SELECT s.scheduled_at FROM care_treatmentsession s
     WHERE s.patient_id = p.id AND s.status = 'completed' ORDER BY s.scheduled_at LIMIT 1),
    coalesce((SELECT sum(t.staff_unread) FROM care_messagethread t
              WHERE t.patient_id = p.id AND t.staff_unread > 0), 0)::int,
    m.days, m.moods,
    {score_columns}
FROM page
-- (The page's patients and their accounts looked up by key: joins let the planner read
-- every patient and account to find fifty.)
CROSS JOIN LATERAL (SELECT * FROM care_patient p WHERE p.id = page.id LIMIT 1) p
CROSS JOIN LATERAL (
    SELECT u.full_name, u.is_active FROM care_user u WHERE u.id = p.user_id LIMIT 1
) u
LEFT JOIN LATERAL (
    SELECT c.full_name, c.email FROM care_user c WHERE c.id = p.primary_clinician_id LIMIT 1
) c ON true
LEFT JOIN LATERAL (
    SELECT array_agg(k.local_date ORDER BY k.local_date) AS days,
           array_agg(k.mood ORDER BY k.local_date) AS moods
    FROM care_checkin k WHERE k.patient_id = p.id AND k.local_date >= %(since)s
) m ON true
{score_joins}
ORDER BY page.place
"""


def _statement(codes: tuple[str, ...]) -> str:
    columns = ",\n    ".join(f"{code}.ats, {code}.totals" for code in codes)
    joins = "".join(_SCORES.format(code=code, kept=_KEPT.format(code=code)) for code in codes)
    return PAGE.format(score_columns=columns, score_joins=joins, filters=FILTERS)


_statements: dict[tuple[str, ...], str] = {}


class Filters(NamedTuple):
    """The values of FILTERS (from care.caseload.selectors.CaseloadFilters)."""

    clinic: int
    status: str  # "" for any
    clinician: int | None
    phase: str  # "" for any
    depression: bool  # only patients treated for it
    anxiety: bool
    ptsd: bool
    search: str  # a LIKE pattern ("%name%", escaped), "" for any name

    @classmethod
    def of(
        cls, *, clinic: int, status: str, clinician: int | None, phase: str, condition: str
    ) -> "Filters":
        flags = {"depression": False, "anxiety": False, "ptsd": False}
        if condition in flags:
            flags[condition] = True
        return cls(clinic, status, clinician, phase, **flags, search="")

    def searching(self, term: str) -> "Filters":
        """The same filters, for names containing `term` (as Django's icontains)."""
        if not term:
            return self._replace(search="")
        return self._replace(search=f"%{connection.ops.prep_for_like_query(term)}%")


def overview(filters: Filters) -> tuple[int, list[tuple[int, str, str, str]]]:
    """How many patients the filters leave, and (patient key, kind, priority, name) of each
    of their open alerts."""
    with connection.cursor() as cursor:
        cursor.execute(OVERVIEW, filters._asdict())
        rows = cursor.fetchall()
    count = next(row[4] for row in rows if row[0] is None)
    return count, [row[:4] for row in rows if row[0] is not None]


def page_facts(
    filters: Filters,
    *,
    chosen: list[int],
    attention: list[int],
    skip: int,
    wanted: int,
    now: datetime,
    since: date,
    codes: tuple[str, ...],
) -> list[PageFacts]:
    """A page's patients and what their rows show: `chosen` (of those needing attention, in
    that order), then `wanted` more by name after the first `skip`, leaving out every one
    in `attention`. Moods from `since` on; the scores of the questionnaires `codes`."""
    statement = _statements.get(codes) or _statements.setdefault(codes, _statement(codes))
    params = filters._asdict() | {
        "chosen": chosen,
        "attention": attention,
        "skip": skip,
        "wanted": max(wanted, 0),
        "now": now,
        "since": since,
    }
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    facts = []
    for row in rows:
        patient = CaseloadPatient._make(row[:14])
        last_checkin_on, next_session_at, first_treatment_at, unread, days, moods = row[14:20]
        scores, at = {}, 20
        for code in codes:
            ats, totals = row[at : at + 2]
            at += 2
            scores[code] = list(zip(ats, totals, strict=True)) if ats else []
        facts.append(
            PageFacts(
                patient,
                last_checkin_on,
                next_session_at,
                first_treatment_at,
                unread,
                days or [],
                moods or [],
                scores,
            )
        )
    return facts
