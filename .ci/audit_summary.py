"""Sum up pip-audit's reports (run by .ci/security) and check the figure in docs/security.md.

    python .ci/audit_summary.py REPORTS_DIR docs/security.md [--update-doc]

Where pip-audit could not reach PyPI's per-release data (a machine that reaches only the
package index gets 404 there), PyPI's project JSON is asked instead: its `vulnerabilities`
are those of the latest release, so a pin that IS the latest release is audited that way; an
older pin is listed as not audited. The doc's figure is the line after MARKER, written by
--update-doc with the day of the run, never by hand. A run whose result differs says what the
figure should be; it does not fail for that, since which pins can be audited changes whenever
a package publishes a release. It fails on a known vulnerability.
"""

import json
import re
import sys
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MARKER = "<!-- pip-audit figure: written and checked by .ci/security -->"
FIGURE = re.compile(
    r"^Last run \(\d{4}-\d\d-\d\d\): \d+ of \d+ pins audited, \d+ vulnerable.*$", re.MULTILINE
)


@dataclass(frozen=True)
class Summary:
    total: int
    audited: int
    vulnerable: tuple[str, ...]  # "name version: id (fixed in ...)"
    not_audited: tuple[str, ...]  # "`name` version"
    reasons: tuple[str, ...] = ()  # why each was not audited (printed, not in the figure)


def _pin(dependency: dict) -> tuple[str, str]:
    version = dependency.get("version") or dependency.get("skip_reason", "")
    return dependency["name"].lower(), version


def unique_pins(dependencies: list[dict]) -> list[dict]:
    """Each (name, version) once: the project's pins and the scanners' share some."""
    seen: dict[tuple[str, str], dict] = {}
    for dependency in dependencies:
        seen.setdefault(_pin(dependency), dependency)
    return list(seen.values())


def latest_release_vulns(name: str) -> tuple[str | None, list, str]:
    url = f"https://pypi.org/pypi/{name}/json"
    try:
        with urllib.request.urlopen(url, timeout=20) as response:  # a fixed https URL
            data = json.load(response)
    except Exception as exc:  # any failure: not audited, with its name
        return None, [], type(exc).__name__
    return data["info"]["version"], data.get("vulnerabilities") or [], ""


def _vulnerability(name: str, version: str, vuln: dict) -> str:
    fixed = ", ".join(vuln.get("fix_versions") or vuln.get("fixed_in") or []) or "no fix yet"
    return f"{name} {version}: {vuln['id']} (fixed in {fixed})"


def summarise(dependencies: list[dict], *, latest=latest_release_vulns) -> Summary:
    vulnerable = [
        _vulnerability(d["name"], d["version"], v) for d in dependencies for v in d.get("vulns", [])
    ]
    audited = sum(1 for d in dependencies if "skip_reason" not in d)
    not_audited, reasons = [], []
    for d in (d for d in dependencies if "skip_reason" in d):
        # A skipped package has no "version" field; its reason ends with "(<version>)".
        version = d.get("version") or re.search(r"\(([^()]+)\)\s*$", d["skip_reason"])[1]
        newest, vulns, error = latest(d["name"])
        if newest == version:
            audited += 1
            vulnerable += [
                _vulnerability(d["name"], version, v) for v in vulns if not v.get("withdrawn")
            ]
        else:
            not_audited.append(f"`{d['name']}` {version}")
            reasons.append(f"{d['name']} {version}: {error or f'latest is {newest}'}")
    return Summary(
        len(dependencies),
        audited,
        tuple(vulnerable),
        tuple(sorted(not_audited)),
        tuple(sorted(reasons)),
    )


def figure_line(summary: Summary, *, day: str) -> str:
    line = (
        f"Last run ({day}): {summary.audited} of {summary.total} pins audited, "
        f"{len(summary.vulnerable)} vulnerable"
    )
    if summary.not_audited:
        line += "; not audited: " + ", ".join(summary.not_audited)
    return line + "."


def _doc_figure(doc: str) -> str | None:
    _, found, rest = doc.partition(MARKER + "\n")
    match = FIGURE.match(rest) if found else None
    return match.group(0) if match else None


def _undated(line: str) -> str:
    return re.sub(r"^Last run \(\d{4}-\d\d-\d\d\)", "Last run", line)


def doc_mismatch(doc: str, summary: Summary, *, day: str) -> str | None:
    """Why the doc's figure is not this run's result (whatever its day), or None."""
    expected = figure_line(summary, day=day)
    found = _doc_figure(doc)
    if found is not None and _undated(found) == _undated(expected):
        return None
    if found is None:
        return f"docs/security.md has no figure after {MARKER!r}; it should say:\n{expected}"
    return f"docs/security.md says:\n{found}\nThis run:\n{expected}"


def doc_updated(doc: str, summary: Summary, *, day: str) -> str:
    found = _doc_figure(doc)
    if found is None:
        raise ValueError(f"no figure after {MARKER!r} to replace")
    head, _, rest = doc.partition(MARKER + "\n")
    return head + MARKER + "\n" + figure_line(summary, day=day) + rest[len(found) :]


def main(reports_dir: str, doc_path: str, *options: str) -> int:
    reports = sorted(Path(reports_dir).glob("*.json"))
    dependencies = unique_pins(
        [d for path in reports for d in json.loads(path.read_text())["dependencies"]]
    )
    summary = summarise(dependencies)
    for line in summary.vulnerable:
        print(f"VULNERABLE {line}")
    for line in summary.reasons:
        print(f"NOT AUDITED {line}")
    day = datetime.now(UTC).date().isoformat()
    print(figure_line(summary, day=day))
    doc = Path(doc_path)
    if "--update-doc" in options:
        doc.write_text(doc_updated(doc.read_text(), summary, day=day))
        print(f"{doc_path}: figure written")
    elif problem := doc_mismatch(doc.read_text(), summary, day=day):
        print(f"NOTICE {problem}\n(.ci/security --update-doc writes it)")
    return 1 if summary.vulnerable else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
