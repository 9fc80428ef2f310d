"""The load test's pure parts (loadtests/stats.py): no locust, no server, no database.

The load test itself runs with `loadtests/run` (docs/load-test.md); locust lives in its own
environment and is never imported here.
"""

from pathlib import Path

import pytest

from loadtests.stats import Row, checkin_tally, format_table, percentile, summarize, totp_code

ROOT = Path(__file__).resolve().parent.parent


def test_totp_code_follows_rfc_6238():
    # RFC 6238 appendix B (SHA-1 key "12345678901234567890"), last 6 of the 8 digits.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert totp_code(secret, at=59) == "287082"
    assert totp_code(secret, at=1111111109) == "081804"
    assert totp_code(secret, at=2000000000) == "279037"


def test_totp_code_is_what_the_app_accepts():
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    at = 1_790_000_000
    assert totp_code(secret, at=at) == format_hotp_value(hotp_value(secret, at // 30))


@pytest.mark.parametrize(
    ("share", "expected"), [(0.5, 5), (0.95, 10), (0.99, 10), (0.1, 1), (0.0, 1), (1.0, 10)]
)
def test_percentile_is_the_nearest_rank(share, expected):
    assert percentile(list(range(1, 11)), share) == expected


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_summarize_gives_a_row_per_request_and_one_for_all():
    samples = [
        ("GET /a", 10.0, 200, False),
        ("GET /a", 30.0, 200, False),
        ("POST /b", 50.0, 502, True),
        ("POST /b", 20.0, 0, True),
        ("POST /b", 40.0, 201, False),
    ]
    a, b, every = summarize(samples, seconds=10)
    assert a == Row("GET /a", 2, 0.2, 10.0, 30.0, 30.0, 30.0, 0, 0)
    assert (b.name, b.requests, b.p50, b.max, b.errors, b.server_errors) == (
        "POST /b",
        3,
        40.0,
        50.0,
        2,
        1,
    )
    assert (every.name, every.requests, every.per_second, every.p50) == (
        "all requests",
        5,
        0.5,
        30.0,
    )


def test_the_table_has_a_header_and_a_line_per_row():
    table = format_table(summarize([("GET /a", 12.4, 200, False)], seconds=2))
    lines = table.splitlines()
    assert lines[0].startswith("| request | count | req/s | p50 ms | p95 ms | p99 ms")
    assert lines[2] == "| GET /a | 1 | 0.5 | 12 | 12 | 12 | 12 | 0 | 0 |"
    assert lines[3].startswith("| all requests | 1 |")


OUTCOMES = [
    ("a", 201, False),  # new check-in
    ("b", 201, False),
    ("c", 200, False),  # replaced today's check-in: one revision row
    ("a", 200, True),  # a retry of "a"
]


def test_a_clean_run_has_no_problems():
    tally = checkin_tally(OUTCOMES, stored_ids={"a", "b", "c"}, rows_created=2, revisions_created=1)
    assert (tally.created, tally.updated, tally.duplicates) == (2, 1, 1)
    assert (tally.recovered, tally.unanswered, tally.problems) == (0, 0, ())


def test_a_confirmed_check_in_missing_from_the_database_is_lost():
    tally = checkin_tally(OUTCOMES, stored_ids={"a", "c"}, rows_created=1, revisions_created=1)
    assert tally.problems == (
        "1 confirmed check-in(s) not in the database (lost)",
        "rows created: 1 check-ins and 1 revisions in the database; answers: 2 x 201, "
        "1 x 200 (replaced), 0 recovered by a resend",
    )


@pytest.mark.parametrize(("rows", "revisions"), [(3, 1), (2, 2), (1, 2)])
def test_an_extra_or_misplaced_row_is_a_problem(rows, revisions):
    tally = checkin_tally(
        OUTCOMES, stored_ids={"a", "b", "c"}, rows_created=rows, revisions_created=revisions
    )
    assert len(tally.problems) == 1
    assert tally.problems[0].startswith(f"rows created: {rows} check-ins and {revisions}")


def test_a_client_id_accepted_twice_is_stored_twice():
    outcomes = [("a", 201, False), ("a", 200, False)]
    tally = checkin_tally(outcomes, stored_ids={"a"}, rows_created=1, revisions_created=1)
    assert tally.problems == ("1 client_id(s) stored twice (a 201 or 200 more than once)",)


@pytest.mark.parametrize(("rows", "revisions"), [(1, 0), (0, 1)])
def test_a_lost_answer_is_recovered_by_a_resend(rows, revisions):
    # The first request was stored but its answer never came; the resend says "duplicate".
    outcomes = [("a", 0, False), ("a", 200, True)]
    tally = checkin_tally(
        outcomes, stored_ids={"a"}, rows_created=rows, revisions_created=revisions
    )
    assert (tally.recovered, tally.unanswered, tally.problems) == (1, 1, ())


def test_a_duplicate_answer_for_nothing_stored_is_lost():
    tally = checkin_tally([("a", 200, True)], stored_ids=set(), rows_created=0, revisions_created=0)
    assert "1 confirmed check-in(s) not in the database (lost)" in tally.problems


def test_a_check_in_stored_without_an_answer_is_reported():
    outcomes = [("a", 201, False), ("b", 0, False), ("c", 503, False)]
    tally = checkin_tally(outcomes, stored_ids={"a", "b"}, rows_created=2, revisions_created=0)
    assert tally.unanswered == 2
    assert tally.problems == (
        "1 check-in(s) stored that no response confirmed",
        "rows created: 2 check-ins and 0 revisions in the database; answers: 1 x 201, "
        "0 x 200 (replaced), 0 recovered by a resend",
    )


def test_locust_is_pinned_in_its_own_requirements_only():
    own = (ROOT / "loadtests" / "requirements.txt").read_text().splitlines()
    pins = [line for line in own if line.strip() and not line.startswith("#")]
    assert "locust==2.47.0" in pins
    assert all("==" in line for line in pins)
    for name in ("pyproject.toml", "requirements.txt", "requirements-dev.txt"):
        assert "locust" not in (ROOT / name).read_text().lower()
