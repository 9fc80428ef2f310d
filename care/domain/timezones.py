"""Time-zone choices grouped by country, for the pickers of clinic and patient zones.

The groups come from the tz database's own tables (`zone.tab`, `iso3166.tab` in the pinned
`tzdata` package): each zone belongs to one country and carries the database's note on the
area it covers. The country of a given zone (the clinic's) comes first, its common zones at
its head; then every other country by name; last, the older and alias names that the
database keeps (so a zone stored under one of them stays a valid choice).
"""

import zoneinfo
from functools import cache
from importlib.resources import files

# The zones most people of a country live in, in the order a picker offers them.
COMMON = {
    "US": [
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Phoenix",
        "America/Los_Angeles",
        "America/Anchorage",
        "Pacific/Honolulu",
    ],
    "CA": ["America/Toronto", "America/Winnipeg", "America/Edmonton", "America/Vancouver"],
}
OTHER_NAMES = "Other and older names"

type Choices = list[tuple[str, str]]


def _rows(name: str) -> list[list[str]]:
    text = files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def _tables() -> tuple[dict[str, str], dict[str, list[tuple[str, str]]]]:
    """Country names by code, and each country's (zone, note) pairs in the table's order."""
    countries = {row[0]: row[1] for row in _rows("iso3166.tab")}
    zones: dict[str, list[tuple[str, str]]] = {}
    for row in _rows("zone.tab"):
        zones.setdefault(row[0], []).append((row[2], row[3] if len(row) > 3 else ""))
    return countries, zones


def zone_country(zone: str) -> str | None:
    """The country code of a zone (None for UTC, aliases and the like)."""
    _, zones = _tables()
    return next((code for code, pairs in zones.items() if zone in dict(pairs)), None)


def zone_label(zone: str, note: str = "") -> str:
    """ "America/New_York", "Eastern (most areas)" -> "New York — Eastern (most areas)"."""
    place = zone.rsplit("/", 1)[-1].replace("_", " ")
    return f"{place} — {note}" if note else place


@cache
def timezone_groups(near: str) -> list[tuple[str, Choices]]:
    """Grouped choices (Django's (group, [(value, label)]) form) with the country of the
    zone `near` first, its common zones at its head."""
    countries, zones = _tables()
    first = zone_country(near)
    groups = []
    for code in sorted(zones, key=lambda c: (c != first, countries.get(c, c))):
        pairs = zones[code]
        common = COMMON.get(code, [])
        pairs = sorted(pairs, key=lambda p: common.index(p[0]) if p[0] in common else len(common))
        groups.append((countries.get(code, code), [(z, zone_label(z, n)) for z, n in pairs]))
    listed = {zone for pairs in zones.values() for zone, _ in pairs}
    others = sorted(
        z
        for z in zoneinfo.available_timezones()
        if "/" in z and z != "localtime" and z not in listed
    )
    groups.append((OTHER_NAMES, [(z, z.replace("_", " ")) for z in others]))
    return groups


# Names a sentence says with "the" (the tz table's own names for these are short forms).
THE = {
    "GB": "the United Kingdom",
    "US": "the United States",
    "AE": "the United Arab Emirates",
    "NL": "the Netherlands",
    "PH": "the Philippines",
    "BS": "the Bahamas",
    "DO": "the Dominican Republic",
    "CZ": "the Czech Republic",
}


def country_name(code: str) -> str:
    """The country as a sentence names it: "GB" -> "the United Kingdom", "IE" -> "Ireland"
    (the code itself when the table does not know it)."""
    countries, _ = _tables()
    return THE.get(code) or countries.get(code, code)


def zone_outside(zone: str, country: str) -> str | None:
    """The country of `zone` when the tz database knows it and it is not `country` (None
    when it is `country`'s, or an alias or UTC, which belong to no country)."""
    found = zone_country(zone)
    return found if found is not None and found != country else None
