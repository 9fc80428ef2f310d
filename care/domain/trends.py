"""Series for charts and what is due: pure functions over plain values, time passed in."""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate


@dataclass(frozen=True)
class TrendPoint:
    day: date
    value: float


def rolling_average(points: Sequence[TrendPoint], *, window_days: int = 7) -> list[TrendPoint]:
    """For each day with a value, the mean of the values in the `window_days` ending that day.

    Days without a check-in are skipped, not counted as zero.
    """
    ordered = sorted(points, key=lambda p: p.day)
    (means,) = rolling_means(
        [p.day for p in ordered], [p.value for p in ordered], window_days=window_days
    )
    return [TrendPoint(p.day, mean) for p, mean in zip(ordered, means, strict=True)]


def rolling_means(
    days: Sequence[date], *series: Sequence[float], window_days: int = 7
) -> list[list[float]]:
    """`rolling_average` of each series of values, all parallel to `days` (ascending)."""
    windows = rolling_windows(days, window_days=window_days)
    return [_window_means(values, windows) for values in series]


def _window_means(values: Sequence[float], windows: list[tuple[int, int]]) -> list[float]:
    """The mean of each window of `values`, rounded to 2 places.

    Whole numbers (the 0-10 answers) are summed through prefix sums, exact in any order;
    anything else slice by slice, in order, as `sum` would. Each distinct mean is computed
    once: a long series repeats the same few (total, count) pairs.
    """
    if all(type(value) is int for value in values):
        prefix = list(accumulate(values, initial=0))
        sums = [(prefix[end] - prefix[start], end - start) for start, end in windows]
    else:
        sums = [(sum(values[start:end]), end - start) for start, end in windows]
    means = {pair: round(pair[0] / pair[1], 2) for pair in set(sums)}
    return [means[pair] for pair in sums]


def rolling_windows(days: Sequence[date], *, window_days: int = 7) -> list[tuple[int, int]]:
    """For each of `days` (ascending), the slice `[start:end]` of the days in the
    `window_days` ending that day: same-day entries after it included. Linear."""
    span = timedelta(days=window_days - 1)
    windows = []
    start = end = 0
    for day in days:
        first = day - span
        while days[start] < first:
            start += 1
        while end < len(days) and days[end] <= day:
            end += 1
        windows.append((start, end))
    return windows


def rolling_average_at(ordered: Sequence[TrendPoint], day: date, *, window_days: int = 7) -> float:
    """The `rolling_average` value of one day that has a point (`ordered` sorted by day)."""
    days, values = [p.day for p in ordered], [p.value for p in ordered]
    return window_average(days, values, day, window_days=window_days)


def window_average(
    days: Sequence[date], values: Sequence[float], day: date, *, window_days: int = 7
) -> float:
    """`rolling_average_at` of the points given as two lists (`days` sorted, one value each)."""
    span = timedelta(days=window_days - 1)
    window = values[bisect_left(days, day - span) : bisect_right(days, day)]
    return round(sum(window) / len(window), 2)


# Interim cadence until sessions anchor the schedule: every 14 days (PHQ-9, GAD-7, two-week
# recall) and every 28 days (PCL-5, one-month recall).
REPEAT_AFTER_DAYS = {"phq9": 14, "gad7": 14, "pcl5": 28}


def questionnaires_due(
    codes: Iterable[str], last_completed: dict[str, date], *, today: date
) -> list[str]:
    """The instruments (in the order given) never completed or completed too long ago.

    `last_completed` holds local dates (the patient's zone), like `today`.
    """
    due = []
    for code in codes:
        last = last_completed.get(code)
        if last is None or (today - last).days >= REPEAT_AFTER_DAYS[code]:
            due.append(code)
    return due
