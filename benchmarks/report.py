"""The benchmark table: figures, floors, ratios and the targets of issue 9."""

import itertools
import math


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _check(ratio: float, *, at_most: float | None = None, at_least: float | None = None) -> str:
    if at_most is not None:
        return f"<= {at_most:g}", ("ok" if ratio <= at_most else "MISSED")
    return f">= {at_least:g}", ("ok" if ratio >= at_least else "MISSED")


def report(results: dict) -> str:
    """A Markdown table of every figure, with its floor, ratio and target."""
    care = {int(k): v for k, v in results["care"].items()}
    dispatch = {int(k): v for k, v in results["dispatch"].items()}
    small, large = min(care), max(care)
    rows = []

    def row(figure, value, floor, ratio_name, ratio, target=None):
        bound, verdict = target if target else ("", "")
        rows.append((figure, value, floor, ratio_name, f"{ratio:.2f}", bound, verdict))

    for size in sorted(care):
        s = care[size]["seconds"]
        row(
            f"Caseload page, {size:,} patients",
            _ms(s["caseload"]),
            _ms(s["floor_page"]),
            "/ floor page",
            s["caseload"] / s["floor_page"],
            _check(s["caseload"] / s["floor_page"], at_most=3) if size == large else None,
        )
    ratio = care[large]["seconds"]["caseload"] / care[small]["seconds"]["caseload"]
    row(
        f"Caseload page, {large:,} / {small:,} patients",
        "",
        "",
        "ratio",
        ratio,
        _check(ratio, at_most=1.5),
    )
    s = care[large]["seconds"]
    days = care[large]["trend_patient_checkins"]
    for span in (90, 730):
        ratio = s[f"trends_{span}"] / s["floor_api"]
        row(
            f"Trends endpoint, {span} days ({days} check-ins held)",
            _ms(s[f"trends_{span}"]),
            _ms(s["floor_api"]),
            "/ floor API",
            ratio,
            _check(ratio, at_most=3) if span == 730 else None,
        )
    outcomes = {int(k): v for k, v in results.get("outcomes", {}).items()}
    for size in sorted(outcomes):
        # Issue 23: at most 10 floors at 5,000 patients; 10 times the clinic at most 3 times.
        o = outcomes[size]["seconds"]
        for name, label in (
            ("outcomes", "Outcomes page"),
            ("outcomes_csv", "Outcomes CSV"),
            ("outcomes_api", "Outcomes API"),
        ):
            ratio = o[name] / o["floor_page"]
            row(
                f"{label}, {size:,} patients",
                _ms(o[name]),
                _ms(o["floor_page"]),
                "/ floor page",
                ratio,
                _check(ratio, at_most=10) if size == 5000 and name == "outcomes" else None,
            )
    if 5000 in outcomes and 50_000 in outcomes:
        ratio = outcomes[50_000]["seconds"]["outcomes"] / outcomes[5000]["seconds"]["outcomes"]
        row(
            "Outcomes page, 50,000 / 5,000 patients",
            "",
            "",
            "ratio",
            ratio,
            _check(ratio, at_most=3),
        )
    for size in sorted(dispatch):
        d = dispatch[size]
        ratio = d["seconds"]["tick"] / d["seconds"]["floor"]
        row(
            f"Dispatch tick, {size:,} patients, {d['due']:,} due",
            _ms(d["seconds"]["tick"]),
            _ms(d["seconds"]["floor"]),
            "/ SQL floor",
            ratio,
            _check(ratio, at_most=3),
        )
    sizes = sorted(dispatch)
    for low, high in itertools.pairwise(sizes):
        # Linear at most (10 times the patients, at most 12 times the time: issues 9 and 23).
        ratio = dispatch[high]["seconds"]["tick"] / dispatch[low]["seconds"]["tick"]
        row(
            f"Dispatch tick, {high:,} / {low:,} patients",
            "",
            "",
            "ratio",
            ratio,
            _check(ratio, at_most=12),
        )
    if "throughput" in results:
        t = results["throughput"]["per_second"]
        ratio = t["checkin"] / t["floor"]
        row(
            "Check-in submissions through gunicorn (4 workers)",
            f"{t['checkin']:,.0f}/s",
            f"{t['floor']:,.0f}/s",
            "/ floor POST",
            ratio,
            _check(ratio, at_least=0.5),
        )
    if "sending" in results:
        # Issue 23: e-mails per second of one process, against a bare smtplib loop.
        e = results["sending"]["per_second"]
        row(
            f"Reminder e-mails sent by one process, chunks of {results['sending']['chunk']}",
            f"{e['chunks']:,.0f}/s",
            f"{e['floor']:,.0f}/s",
            "/ bare smtplib",
            e["chunks"] / e["floor"],
            _check(e["chunks"] / e["floor"], at_least=0.5),
        )
        row(
            "Reminder e-mails sent by one process, a connection each",
            f"{e['per_email']:,.0f}/s",
            f"{e['floor']:,.0f}/s",
            "/ bare smtplib",
            e["per_email"] / e["floor"],
        )
    lines = [
        "| Figure | Median | Floor | Ratio | Value | Target | |",
        "|---|---:|---:|---|---:|---|---|",
    ]
    lines += [f"| {' | '.join(r)} |" for r in rows]

    lines += [
        "",
        "| Dispatch | Due | SQL statements | Broker messages | Peak RSS | Python peak "
        "| Dead rows vacuumed | at start | |",
    ]
    lines += ["|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for size in sorted(dispatch):
        d = dispatch[size]
        verdict = "ok" if d["peak_rss_mb"] < 250 else "MISSED (< 250 MB)"
        dead = d.get("dead_rows", {})  # recorded since 2026-12-06
        lines.append(
            f"| {size:,} patients | {d['due']:,} | {d['statements']:,} | {d['messages']:,} "
            f"| {d['peak_rss_mb']:.0f} MB | {d['traced_peak_mb']:.0f} MB "
            f"| {_count(dead.get('vacuumed'))} | {_count(dead.get('at_start'))} | {verdict} |"
        )

    lines += ["", "| SQL queries | " + " | ".join(f"{n:,} patients" for n in sorted(care)) + " | |"]
    lines += ["|---|" + "---:|" * len(care) + "---|"]
    for name, label in (
        ("caseload", "Caseload page"),
        ("patient_page", "Patient page"),
        ("trends_90", "Trends, 90 days"),
        ("trends_730", "Trends, 730 days"),
        ("floor_page", "Floor page"),
        ("floor_api", "Floor API"),
    ):
        counts = [care[n]["queries"][name] for n in sorted(care)]
        verdict = "same" if len(set(counts)) == 1 else "DIFFERENT"
        lines.append(f"| {label} | " + " | ".join(str(c) for c in counts) + f" | {verdict} |")
    if outcomes:
        lines += [
            "",
            "| Outcomes | Patients | Questionnaires | SQL statements | Peak RSS | Target | |"
            " Facts stored again |",
        ]
        lines += ["|---|---:|---:|---:|---:|---|---|---:|"]
        for size in sorted(outcomes):
            o = outcomes[size]
            verdict = "ok" if o["peak_rss_mb"] < 150 else "MISSED"
            lines.append(
                f"| {size:,} patients | {o['patients']:,} | {o['questionnaires']:,} "
                f"| {o['queries']['outcomes']} | {o['peak_rss_mb']:.0f} MB | < 150 MB | {verdict} "
                f"| {_facts(o)} |"
            )
    if "exports" in results:
        # Issue 18: 1.55 million check-ins in at most 10 s of server time.
        lines += ["", "| Export (whole clinic) | Rows | Server time | Rows/s | Target | |"]
        lines += ["|---|---:|---:|---:|---|---|"]
        for kind, label in (
            ("checkins", "Check-ins export"),
            ("assessments", "Questionnaires export"),
            ("sessions", "Sessions export"),
            ("checkins_job", "Check-ins export as a job (file on disk)"),
        ):
            if kind not in results["exports"]:
                continue
            e = results["exports"][kind]
            bound, verdict = "", ""
            if kind in ("checkins", "checkins_job"):
                bound = ">= 155,000"
                verdict = "ok" if e["rows_per_second"] >= 155_000 else "MISSED"
            lines.append(
                f"| {label} | {e['rows']:,} | {e['seconds']:.2f} s "
                f"| {e['rows_per_second']:,.0f} | {bound} | {verdict} |"
            )
    if "sending" in results:
        s = results["sending"]
        per_process = s["per_second"]["chunks"] * 300  # in 5 minutes
        processes = math.ceil(100_000 / per_process)
        lines += [
            "",
            f"Sending: {s['emails']:,} e-mails of {s['email_bytes']:,} bytes to a local SMTP sink "
            f"(connections: chunks {s['connections']['chunks']}, a connection each "
            f"{s['connections']['per_email']} for {s['per_email_emails']:,}, floor "
            f"{s['connections']['floor']}); 100,000 due at one minute (1M patients' evening "
            f"peak) sent within 5 minutes by {processes} processes at "
            f"this rate ({per_process:,.0f} each).",
        ]
    lines += ["", "| Phase | Tables vacuumed first | Dead rows found | Left at start |"]
    lines += ["|---|---|---:|---:|"]
    for phase, dead in _dead_rows(results):
        lines.append(
            f"| {phase} | {', '.join(dead['tables'])} | {_count(dead['vacuumed'])} "
            f"| {_count(dead['at_start'])} |"
        )
    sizes = ", ".join(f"{n:,} patients / {care[n]['checkins']:,} check-ins" for n in sorted(care))
    lines += ["", f"Care data sets: {sizes}."]
    if "machine" in results:
        machine = results["machine"]
        start = ", ".join(f"{value:.2f}" for value in machine.get("load_at_start", ()))
        end = ", ".join(f"{value:.2f}" for value in machine["load"])
        at_start = f"at the start {start}, " if start else ""
        lines += [f"Machine: {machine['cores']} cores, load average {at_start}at the end {end}."]
    return "\n".join(lines)


def _facts(outcomes: dict) -> str:
    """Every patient's outcome facts stored again: time and patients a second."""
    if "facts_seconds" not in outcomes:
        return ""
    seconds = outcomes["facts_seconds"]
    return f"{seconds:.1f} s ({outcomes['facts_stored'] / seconds:,.0f}/s)"


def _dead_rows(results: dict):
    """Each phase's vacuum before it measured: (phase, figures)."""
    for group, label in (("care", "Pages"), ("outcomes", "Outcomes"), ("dispatch", "Dispatch")):
        for size, result in sorted(results.get(group, {}).items(), key=lambda i: int(i[0])):
            if "tables" in result.get("dead_rows", {}):
                yield f"{label}, {int(size):,} patients", result["dead_rows"]
    phases = (("exports", "Exports"), ("sending", "Sending"), ("throughput", "Throughput"))
    for name, label in phases:
        if "tables" in results.get(name, {}).get("dead_rows", {}):
            yield label, results[name]["dead_rows"]


def _count(value) -> str:
    return "?" if value is None else f"{value:,}"
