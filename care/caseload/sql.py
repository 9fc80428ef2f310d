"""The caseload page's one hand-written read: everything its rows show, for one page.

The page's patients are known by then (CaseloadSequence orders and pages them); this
statement brings, for each, what its row shows: the patient and account fields, the primary
clinician's name, the last check-in day, the next booked session, the first held session,
the unread messages, the moods of the last days, and of each summarised questionnaire the
first kept score and the latest two (kept: with a total and not corrected by a later one).
One round trip, no query to build: on the caseload page, building and compiling the ORM's
statements cost more than running them (docs/benchmarks.md, the caseload page).

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


class ScoreFacts(NamedTuple):
    """Of one questionnaire: the first kept score and the latest two, newest first, each
    as (id, completed at, total); the first may be one of the latest."""

    first: tuple[int, datetime, int] | None
    latest: list[tuple[int, datetime, int]]


class PageFacts(NamedTuple):
    patient: CaseloadPatient
    last_checkin_on: date | None
    next_session_at: datetime | None
    first_treatment_at: datetime | None
    unread_messages: int
    # (day, mood) of the check-ins since the day asked for, oldest first.
    moods: list[tuple[date, int]]
    scores: dict[str, ScoreFacts]


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
    SELECT a.id, a.completed_at, a.total {kept} ORDER BY a.completed_at LIMIT 1
) {code}_first ON true
LEFT JOIN LATERAL (
    SELECT array_agg(l.id ORDER BY l.completed_at DESC) AS ids,
           array_agg(l.completed_at ORDER BY l.completed_at DESC) AS ats,
           array_agg(l.total ORDER BY l.completed_at DESC) AS totals
    FROM (
        SELECT a.id, a.completed_at, a.total {kept} ORDER BY a.completed_at DESC LIMIT 2
    ) l
) {code}_latest ON true
"""

PAGE = """
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
FROM care_patient p
-- (Looked up by key for the page's patients: a join let the planner read every account.)
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
WHERE p.id = ANY(%(ids)s)
"""


def _statement(codes: tuple[str, ...]) -> str:
    columns = ",\n    ".join(
        f"{code}_first.id, {code}_first.completed_at, {code}_first.total, "
        f"{code}_latest.ids, {code}_latest.ats, {code}_latest.totals"
        for code in codes
    )
    joins = "".join(_SCORES.format(code=code, kept=_KEPT.format(code=code)) for code in codes)
    return PAGE.format(score_columns=columns, score_joins=joins)


_statements: dict[tuple[str, ...], str] = {}


def page_facts(
    ids: list[int], *, now: datetime, since: date, codes: tuple[str, ...]
) -> dict[int, PageFacts]:
    """What the caseload rows of these patients show (moods from `since` on; the scores of
    the questionnaires `codes`), by patient key."""
    if not ids:
        return {}
    statement = _statements.get(codes) or _statements.setdefault(codes, _statement(codes))
    with connection.cursor() as cursor:
        cursor.execute(statement, {"now": now, "since": since, "ids": ids})
        rows = cursor.fetchall()
    facts = {}
    for row in rows:
        patient = CaseloadPatient._make(row[:14])
        last_checkin_on, next_session_at, first_treatment_at, unread, days, moods = row[14:20]
        scores, at = {}, 20
        for code in codes:
            first_id, first_at, first_total, ids_, ats, totals = row[at : at + 6]
            at += 6
            scores[code] = ScoreFacts(
                (first_id, first_at, first_total) if first_id is not None else None,
                list(zip(ids_, ats, totals, strict=True)) if ids_ else [],
            )
        facts[patient.pk] = PageFacts(
            patient,
            last_checkin_on,
            next_session_at,
            first_treatment_at,
            unread,
            list(zip(days, moods, strict=True)) if days else [],
            scores,
        )
    return facts
