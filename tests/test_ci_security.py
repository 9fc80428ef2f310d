"""`.ci/security` sums up pip-audit's reports, writes the figure docs/security.md gives (with
the day of the run) and says when a run's result differs from it."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("audit_summary", ROOT / ".ci" / "audit_summary.py")
audit_summary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_summary)

REPORT = [
    {"name": "django", "version": "6.1.3", "vulns": []},
    {"name": "celery", "version": "5.7.0", "vulns": []},
    {"name": "packaging", "skip_reason": "Dependency not found on PyPI (26.3)"},
    {"name": "six", "skip_reason": "Dependency not found on PyPI (1.17.0)"},
]
DAY = "2026-12-06"
LATEST = {"packaging": ("26.4", []), "six": ("1.17.0", [])}


def summary():
    return audit_summary.summarise(REPORT, latest=lambda name: (*LATEST[name], ""))


def test_the_figure_counts_audited_pins_and_lists_the_rest():
    line = audit_summary.figure_line(summary(), day=DAY)

    assert line == (
        "Last run (2026-12-06): 3 of 4 pins audited, 0 vulnerable; not audited: `packaging` 26.3."
    )
    assert summary().reasons == ("packaging 26.3: latest is 26.4",)


def test_a_doc_with_the_figure_of_this_run_passes():
    doc = f"Intro\n{audit_summary.MARKER}\n{audit_summary.figure_line(summary(), day=DAY)}\nMore\n"

    assert audit_summary.doc_mismatch(doc, summary(), day=DAY) is None


def test_a_doc_with_another_figure_is_reported_with_what_it_should_say():
    old = "Last run (2026-11-01): 113 of 116 pins audited, 0 vulnerable."
    doc = f"Intro\n{audit_summary.MARKER}\n{old}\n"

    problem = audit_summary.doc_mismatch(doc, summary(), day=DAY)

    assert "113 of 116" in problem and "3 of 4" in problem


def test_a_doc_without_the_figure_is_reported():
    assert audit_summary.doc_mismatch("No figure here.\n", summary(), day=DAY) is not None


def test_the_doc_can_be_rewritten_with_this_runs_figure():
    old = "Last run (2026-11-01): 1 of 1 pins audited, 0 vulnerable."
    doc = f"Intro\n{audit_summary.MARKER}\n{old}\nEnd\n"

    updated = audit_summary.doc_updated(doc, summary(), day=DAY)

    assert audit_summary.doc_mismatch(updated, summary(), day=DAY) is None
    assert updated.startswith("Intro\n") and updated.endswith("\nEnd\n")


def test_the_security_doc_carries_a_checked_figure():
    doc = (ROOT / "docs" / "security.md").read_text()

    assert audit_summary.MARKER in doc
    assert audit_summary.FIGURE.search(doc)


def test_a_figure_of_another_day_with_the_same_result_passes():
    doc = f"{audit_summary.MARKER}\n{audit_summary.figure_line(summary(), day='2026-11-01')}\n"

    assert audit_summary.doc_mismatch(doc, summary(), day=DAY) is None


def test_a_pin_in_both_requirement_sets_is_counted_once():
    twice = [*REPORT, {"name": "Django", "version": "6.1.3", "vulns": []}, REPORT[2]]

    assert audit_summary.unique_pins(twice) == REPORT
