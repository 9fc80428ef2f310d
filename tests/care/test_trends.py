"""Pure trend helpers: rolling averages and what is due. No DB."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from care.domain.clock import local_date
from care.domain.trends import (
    TrendPoint,
    questionnaires_due,
    rolling_average,
    rolling_average_at,
    rolling_means,
)


def test_rolling_average_uses_the_seven_days_ending_each_day_and_skips_gaps():
    points = [TrendPoint(date(2026, 1, d), v) for d, v in [(1, 2), (2, 4), (5, 6), (9, 10)]]

    averages = rolling_average(points)

    assert [(p.day.day, p.value) for p in averages] == [(1, 2.0), (2, 3.0), (5, 4.0), (9, 8.0)]


def _rolling_average_by_definition(points, window_days=7):
    ordered = sorted(points, key=lambda p: p.day)
    result = []
    for point in ordered:
        start = point.day - timedelta(days=window_days - 1)
        window = [p.value for p in ordered if start <= p.day <= point.day]
        result.append(TrendPoint(point.day, round(sum(window) / len(window), 2)))
    return result


@pytest.mark.parametrize(
    "value",
    [
        lambda rng: rng.randint(0, 10),
        lambda rng: rng.random() * 10,
        lambda rng: rng.choice([rng.randint(0, 10), rng.random() * 10]),
    ],
    ids=["whole", "fractions", "mixed"],
)
def test_rolling_average_matches_its_definition_with_gaps_and_repeated_days(value):
    rng = random.Random(9)
    for _ in range(50):
        points = [
            TrendPoint(date(2026, 1, 1) + timedelta(days=rng.randrange(60)), value(rng))
            for _ in range(rng.randrange(40))
        ]
        for window_days in (1, 7, 30):
            assert rolling_average(points, window_days=window_days) == (
                _rolling_average_by_definition(points, window_days)
            )


def test_rolling_means_of_parallel_series_share_the_days():
    days = [date(2026, 1, d) for d in (1, 2, 5, 9)]

    assert rolling_means(days, [2, 4, 6, 10], [1, 1, 1, 2]) == [
        [2.0, 3.0, 4.0, 8.0],
        [1.0, 1.0, 1.0, 1.5],
    ]


def test_rolling_average_of_nothing_is_nothing():
    assert rolling_average([]) == []


def test_questionnaires_due_when_never_done_or_the_recall_window_has_passed():
    today = date(2026, 3, 29)
    last = {
        "phq9": date(2026, 3, 15),  # 14 days ago: due
        "gad7": date(2026, 3, 16),  # 13 days ago: not yet
        "pcl5": date(2026, 3, 2),  # 27 days ago: not yet (monthly)
    }

    assert questionnaires_due(["phq9", "gad7", "pcl5"], last, today=today) == ["phq9"]
    assert questionnaires_due(["pcl5"], {}, today=today) == ["pcl5"]


def test_local_date_follows_the_patients_zone_across_midnight_and_dst():
    instant = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # DST starts in the US that night

    assert local_date(instant, "America/Los_Angeles") == date(2026, 3, 7)
    assert local_date(instant, "America/New_York") == date(2026, 3, 8)
    assert local_date(instant, "Asia/Tokyo") == date(2026, 3, 8)


def test_rolling_average_matches_the_plain_definition_on_a_long_irregular_series():
    rng = random.Random(7)
    days = sorted(rng.sample(range(800), 500))
    points = [TrendPoint(date(2024, 1, 1) + timedelta(days=d), rng.randint(0, 10)) for d in days]

    averages = rolling_average(list(reversed(points)))

    for point, average in zip(points, averages, strict=True):
        window = [p.value for p in points if 0 <= (point.day - p.day).days <= 6]
        assert average == TrendPoint(point.day, round(sum(window) / len(window), 2))


def test_rolling_average_at_one_day_is_the_series_value_of_that_day():
    points = [TrendPoint(date(2026, 1, d), v) for d, v in [(1, 2), (2, 4), (5, 6), (9, 10)]]

    assert [rolling_average_at(points, p.day) for p in points] == [
        p.value for p in rolling_average(points)
    ]
