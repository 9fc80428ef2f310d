"""The dispatcher's hand-written SQL (PostgreSQL) names every questionnaire of the schedule."""

from care.domain.trends import REPEAT_AFTER_DAYS
from notifications.sql import CHECKIN_CANDIDATES, INSTRUMENT_FLAGS, MAINTENANCE_CANDIDATES


def test_the_candidate_statements_have_a_recent_column_for_each_questionnaire():
    recent = ", ".join(f"{code}_recent" for code in INSTRUMENT_FLAGS)

    assert list(INSTRUMENT_FLAGS) == list(REPEAT_AFTER_DAYS)
    for statement in (CHECKIN_CANDIDATES, MAINTENANCE_CANDIDATES):
        assert recent in statement
        assert statement.count("%b::timestamptz[]") == 2 + len(INSTRUMENT_FLAGS)


def test_the_maintenance_statement_asks_about_each_questionnaire_by_its_condition():
    for code, flag in INSTRUMENT_FLAGS.items():
        assert f"('{code}', p.{flag}, z.{code}_recent)" in MAINTENANCE_CANDIDATES
