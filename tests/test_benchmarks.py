"""The benchmark command's pieces that can break quietly: floors, the report's verdicts."""

import copy

import pytest
from django.test import override_settings

from benchmarks.report import report
from notifications.models import Heartbeat

RESULTS = {
    "care": {
        50: {
            "seconds": {
                "floor_page": 0.010,
                "caseload": 0.025,
                "floor_api": 0.005,
                "trends_90": 0.006,
                "trends_730": 0.010,
                "patient_page": 0.03,
            },
            "queries": dict.fromkeys(
                ["caseload", "patient_page", "trends_90", "trends_730", "floor_page", "floor_api"],
                7,
            ),
            "trend_patient_checkins": 730,
            "checkins": 18000,
        },
    },
    "dispatch": {
        10_000: {
            "due": 1000,
            "seconds": {"tick": 0.05, "floor": 0.02},
            "statements": 20,
            "messages": 60,
            "peak_rss_mb": 120.0,
            "traced_peak_mb": 10.0,
        },
        100_000: {
            "due": 10000,
            "seconds": {"tick": 0.5, "floor": 0.2},
            "statements": 150,
            "messages": 520,
            "peak_rss_mb": 180.0,
            "traced_peak_mb": 40.0,
        },
    },
    "throughput": {"per_second": {"checkin": 60.0, "floor": 100.0}},
}
RESULTS["care"][5000] = copy.deepcopy(RESULTS["care"][50])
RESULTS["care"][5000]["checkins"] = 1_800_000
RESULTS["care"][5000]["seconds"]["caseload"] = 0.030


def _line(table: str, start: str) -> str:
    return next(line for line in table.splitlines() if line.startswith(f"| {start}"))


def test_the_report_marks_each_target_met_or_missed():
    table = report(RESULTS)

    assert _line(table, "Caseload page, 5,000 patients").endswith("| <= 3 | ok |")
    assert _line(table, "Caseload page, 5,000 / 50").endswith("| 1.20 | <= 1.5 | ok |")
    assert _line(table, "Trends endpoint, 730 days").endswith("| 2.00 | <= 3 | ok |")
    assert _line(table, "Dispatch tick, 10,000 patients").endswith("| 2.50 | <= 3 | ok |")
    assert _line(table, "Dispatch tick, 100,000 / 10,000").endswith("| 10.00 | <= 12 | ok |")
    assert _line(table, "Check-in submissions").endswith("| 0.60 | >= 0.5 | ok |")
    assert _line(table, "Caseload page |").endswith("| same |")

    slow = copy.deepcopy(RESULTS)
    slow["care"][5000]["seconds"]["caseload"] = 0.040
    slow["care"][5000]["queries"]["caseload"] = 9
    slow["dispatch"][100_000]["peak_rss_mb"] = 300.0
    slow["throughput"]["per_second"]["checkin"] = 40.0
    table = report(slow)

    assert _line(table, "Caseload page, 5,000 patients").endswith("| 4.00 | <= 3 | MISSED |")
    assert _line(table, "Caseload page, 5,000 / 50").endswith("| MISSED |")
    assert _line(table, "Caseload page |").endswith("| DIFFERENT |")
    assert _line(table, "100,000 patients |").endswith("| MISSED (< 250 MB) |")
    assert _line(table, "Check-in submissions").endswith("| 0.40 | >= 0.5 | MISSED |")


def test_the_report_gives_the_dead_rows_vacuumed_before_each_dispatch_figure():
    results = copy.deepcopy(RESULTS)
    results["dispatch"][100_000]["dead_rows"] = {"vacuumed": 920_063, "at_start": 0}
    table = report(results)

    assert _line(table, "100,000 patients |").endswith("| 920,063 | 0 | ok |")
    assert _line(table, "10,000 patients |").endswith("| ? | ? | ok |")  # an older result


def test_the_report_gives_each_phases_vacuum_and_the_million_patient_tick():
    results = copy.deepcopy(RESULTS)
    dead = {"tables": ["notifications_delivery", "care_alert"], "vacuumed": 1_200, "at_start": 3}
    results["dispatch"][10_000]["dead_rows"] = dead
    results["care"][50]["dead_rows"] = {"tables": ["care_auditevent"], "vacuumed": 0, "at_start": 0}
    results["dispatch"][1_000_000] = copy.deepcopy(RESULTS["dispatch"][100_000])
    results["dispatch"][1_000_000] |= {"due": 100_000, "peak_rss_mb": 110.0}
    results["dispatch"][1_000_000]["seconds"] = {"tick": 6.5, "floor": 2.0}
    results["machine"] = {"cores": 2, "load_at_start": (0.3, 0.5, 0.6), "load": (0.9, 1.1, 1.25)}
    table = report(results)

    assert _line(table, "Dispatch, 10,000 patients").endswith(
        "| notifications_delivery, care_alert | 1,200 | 3 |"
    )
    assert _line(table, "Pages, 50 patients").endswith("| care_auditevent | 0 | 0 |")
    assert "Dispatch, 100,000 patients" not in table  # an older result: no tables named
    assert _line(table, "Dispatch tick, 1,000,000 patients").endswith("| 3.25 | <= 3 | MISSED |")
    assert _line(table, "Dispatch tick, 1,000,000 / 100,000").endswith("| 13.00 | <= 12 | MISSED |")
    assert _line(table, "Dispatch tick, 100,000 / 10,000").endswith("| 10.00 | <= 12 | ok |")
    assert _line(table, "1,000,000 patients | 100,000").endswith("| 110 MB | 40 MB | ? | ? | ok |")
    assert "load average at the start 0.30, 0.50, 0.60, at the end 0.90, 1.10, 1.25" in table


def test_the_report_gives_each_exports_rows_per_second_against_its_target():
    results = copy.deepcopy(RESULTS)
    results["exports"] = {
        "checkins": {"rows": 1_550_000, "bytes": 10**8, "seconds": 5.0, "rows_per_second": 310_000},
        "sessions": {"rows": 30_000, "bytes": 10**6, "seconds": 0.5, "rows_per_second": 60_000},
        "peak_rss_mb": 90.0,
    }
    table = report(results)
    assert _line(table, "Check-ins export").endswith(
        "| 1,550,000 | 5.00 s | 310,000 | >= 155,000 | ok |"
    )
    assert _line(table, "Sessions export").endswith("| 30,000 | 0.50 s | 60,000 |  |  |")
    results["exports"]["checkins"] |= {"seconds": 12.0, "rows_per_second": 129_167}
    assert _line(report(results), "Check-ins export").endswith("| >= 155,000 | MISSED |")
    assert "Check-ins export" not in report(RESULTS)


def _outcomes(page: float, *, rss: float = 120.0) -> dict:
    return {
        "patients": 5001,
        "questionnaires": 205_000,
        "seconds": {
            "floor_page": 0.005,
            "outcomes": page,
            "outcomes_csv": page,
            "outcomes_api": page,
        },
        "queries": {"outcomes": 14},
        "peak_rss_mb": rss,
        "facts_stored": 5001,
        "facts_seconds": 5.001,
    }


def test_the_report_gives_the_outcomes_page_against_its_floor_and_clinic_size():
    results = copy.deepcopy(RESULTS)
    results["outcomes"] = {5000: _outcomes(0.045), 50_000: _outcomes(0.120, rss=160.0)}
    table = report(results)

    assert _line(table, "Outcomes page, 5,000 patients").endswith("| 9.00 | <= 10 | ok |")
    assert _line(table, "Outcomes page, 50,000 / 5,000").endswith("| 2.67 | <= 3 | ok |")
    assert _line(table, "5,000 patients | 5,001").endswith(
        "| 120 MB | < 150 MB | ok | 5.0 s (1,000/s) |"
    )
    assert _line(table, "50,000 patients | 5,001").endswith(
        "| 160 MB | < 150 MB | MISSED | 5.0 s (1,000/s) |"
    )
    # A run from before the facts were stored shows none.
    del results["outcomes"][5000]["facts_seconds"]
    assert _line(report(results), "5,000 patients | 5,001").endswith("| < 150 MB | ok |  |")
    results["outcomes"][5000]["seconds"]["outcomes"] = 0.060
    assert _line(report(results), "Outcomes page, 5,000 patients").endswith("| MISSED |")
    assert "Outcomes" not in report(RESULTS)


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="benchmarks.urls")
def test_the_floors_need_a_sign_in_and_the_post_inserts_one_row(client, clinician):
    assert client.get("/bench/page/").status_code == 302
    assert client.get("/bench/api/").status_code in (401, 403)

    client.force_login(clinician)
    page = client.get("/bench/page/")
    before = Heartbeat.objects.count()
    answer = client.post("/bench/api/", {}, content_type="application/json")

    assert page.status_code == 200
    assert b"<h1>Floor</h1>" in page.content
    assert client.get("/bench/api/").json() == {"ok": True}
    assert answer.status_code == 201
    assert Heartbeat.objects.count() == before + 1
