"""Pure helpers of the load test: TOTP codes, percentiles, the results table, and the
check-in accounting that proves no submission was lost or stored twice.

Standard library only: the locust file (in .venv-locust) and the verifier (in the app's
.venv) both import it, and tests/test_loadtest_stats.py tests it without locust.
"""

import base64
import hashlib
import hmac
import math
import struct
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# One recorded request: name, milliseconds, HTTP status (0: no response), failed or not.
Sample = tuple[str, float, int, bool]
# One check-in POST as the load script saw it: client_id, HTTP status (0: no response),
# and the response's `duplicate` flag (False when there was no 200/201 body).
Outcome = tuple[str, int, bool]


def totp_code(secret: str, *, at: float, period: int = 30, digits: int = 6) -> str:
    """The RFC 6238 code (HMAC-SHA1) for a base32 `secret` at Unix time `at`."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // period), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def percentile(sorted_values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of an ascending, non-empty list."""
    if not sorted_values:
        raise ValueError("no values")
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True)
class Row:
    name: str
    requests: int
    per_second: float
    p50: float
    p95: float
    p99: float
    max: float
    errors: int
    server_errors: int


def summarize(samples: Iterable[Sample], *, seconds: float) -> list[Row]:
    """One row per request name (in name order) and a last row for all requests together."""
    by_name: dict[str, list[Sample]] = defaultdict(list)
    every: list[Sample] = []
    for sample in samples:
        by_name[sample[0]].append(sample)
        every.append(sample)
    groups = [(name, by_name[name]) for name in sorted(by_name)]
    if every:
        groups.append(("all requests", every))
    rows = []
    for name, group in groups:
        times = sorted(s[1] for s in group)
        rows.append(
            Row(
                name=name,
                requests=len(group),
                per_second=len(group) / seconds if seconds > 0 else 0.0,
                p50=percentile(times, 0.50),
                p95=percentile(times, 0.95),
                p99=percentile(times, 0.99),
                max=times[-1],
                errors=sum(1 for s in group if s[3]),
                server_errors=sum(1 for s in group if s[2] >= 500),
            )
        )
    return rows


def format_table(rows: Sequence[Row]) -> str:
    """A Markdown table (readable in a terminal too); latencies in milliseconds."""
    header = ("request", "count", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "5xx")
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    for r in rows:
        cells = (
            r.name,
            str(r.requests),
            f"{r.per_second:.1f}",
            f"{r.p50:.0f}",
            f"{r.p95:.0f}",
            f"{r.p99:.0f}",
            f"{r.max:.0f}",
            str(r.errors),
            str(r.server_errors),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class CheckInTally:
    created: int  # 201: a new check-in row
    updated: int  # 200, duplicate false: today's check-in replaced (one revision row)
    duplicates: int  # 200, duplicate true: a client_id sent again, nothing stored
    recovered: int  # stored by a request whose answer was lost; a resend said "duplicate"
    unanswered: int  # no 200/201 (an error or no response): outcome unknown to the client
    problems: tuple[str, ...]


def checkin_tally(
    outcomes: Iterable[Outcome],
    *,
    stored_ids: set[str],
    rows_created: int,
    revisions_created: int,
) -> CheckInTally:
    """Compare what the load script was told with what the database holds.

    `stored_ids` are the client_ids found in the database (on a check-in or one of its
    revisions); `rows_created` and `revisions_created` are how many check-in and revision
    rows appeared during the run. Every 201 is one new row and every 200 that is not a
    duplicate one new revision; a duplicate answer for an id that no 201/200 confirmed means
    the first request was stored but its answer lost (one row or revision, we cannot tell
    which). Every confirmed id must be in the database, nothing may be stored that no answer
    confirmed, and the rows must add up exactly.
    """
    created: list[str] = []
    updated: list[str] = []
    duplicate_ids: set[str] = set()
    duplicates = unanswered = 0
    for client_id, status, duplicate in outcomes:
        if status == 201:
            created.append(client_id)
        elif status == 200 and not duplicate:
            updated.append(client_id)
        elif status == 200:
            duplicates += 1
            duplicate_ids.add(client_id)
        else:
            unanswered += 1
    problems = []
    saved = created + updated
    twice = [i for i, n in Counter(saved).items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} client_id(s) stored twice (a 201 or 200 more than once)")
    recovered = duplicate_ids - set(saved)
    confirmed = set(saved) | recovered
    lost = confirmed - stored_ids
    if lost:
        problems.append(f"{len(lost)} confirmed check-in(s) not in the database (lost)")
    unconfirmed = stored_ids - confirmed
    if unconfirmed:
        problems.append(f"{len(unconfirmed)} check-in(s) stored that no response confirmed")
    expected = len(created) + len(updated) + len(recovered)
    if rows_created + revisions_created != expected or not (
        len(created) <= rows_created <= len(created) + len(recovered)
    ):
        problems.append(
            f"rows created: {rows_created} check-ins and {revisions_created} revisions in the "
            f"database; answers: {len(created)} x 201, {len(updated)} x 200 (replaced), "
            f"{len(recovered)} recovered by a resend"
        )
    return CheckInTally(
        created=len(created),
        updated=len(updated),
        duplicates=duplicates,
        recovered=len(recovered),
        unanswered=unanswered,
        problems=tuple(problems),
    )
