"""Places and local time: Canadian cities (plus a few holiday spots abroad) and a clock.

Indicators such as PP-12 (late-night cash) read the *local* hour from the offset in ``ts``,
so every row must carry the DST-correct offset of the city where it happened. ``Clock``
turns (city zone, local day, local seconds) into a UTC instant and back into RFC 3339 text,
using ``zoneinfo`` only on DST-transition days and cached offsets everywhere else (the
zoneinfo round trip costs more than the rest of a row).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DAY = 86_400


@dataclass(frozen=True, slots=True)
class City:
    """A place where card-present, ATM and branch transactions happen."""

    name: str
    province: str  # ISO 3166-2 subdivision code without the country
    country: str
    zone: str  # IANA time zone
    lat: float
    lon: float
    weight: float  # population, thousands: how many customers live there
    area_code: str  # for fictional 555 phone numbers
    code: str  # short code used in ATM / branch / merchant ids


# fmt: off
CITIES: tuple[City, ...] = (
    City("Toronto", "ON", "CA", "America/Toronto", 43.65, -79.38, 2800, "416", "TOR"),
    City("Montreal", "QC", "CA", "America/Toronto", 45.50, -73.57, 1780, "514", "MTL"),
    City("Vancouver", "BC", "CA", "America/Vancouver", 49.28, -123.12, 680, "604", "VAN"),
    City("Calgary", "AB", "CA", "America/Edmonton", 51.05, -114.07, 1300, "403", "CGY"),
    City("Edmonton", "AB", "CA", "America/Edmonton", 53.55, -113.49, 1010, "780", "EDM"),
    City("Ottawa", "ON", "CA", "America/Toronto", 45.42, -75.70, 1020, "613", "OTT"),
    City("Winnipeg", "MB", "CA", "America/Winnipeg", 49.90, -97.14, 750, "204", "WPG"),
    City("Quebec City", "QC", "CA", "America/Toronto", 46.81, -71.21, 550, "418", "QUE"),
    City("Hamilton", "ON", "CA", "America/Toronto", 43.26, -79.87, 570, "905", "HAM"),
    City("Mississauga", "ON", "CA", "America/Toronto", 43.59, -79.64, 720, "905", "MIS"),
    City("Brampton", "ON", "CA", "America/Toronto", 43.73, -79.76, 650, "905", "BRM"),
    City("Surrey", "BC", "CA", "America/Vancouver", 49.19, -122.85, 570, "604", "SUR"),
    City("Laval", "QC", "CA", "America/Toronto", 45.61, -73.71, 440, "450", "LAV"),
    City("Gatineau", "QC", "CA", "America/Toronto", 45.48, -75.70, 290, "819", "GAT"),
    City("Halifax", "NS", "CA", "America/Halifax", 44.65, -63.58, 440, "902", "HFX"),
    City("Regina", "SK", "CA", "America/Regina", 50.45, -104.62, 230, "306", "REG"),
    City("Saskatoon", "SK", "CA", "America/Regina", 52.13, -106.67, 270, "306", "SKN"),
    City("Victoria", "BC", "CA", "America/Vancouver", 48.43, -123.37, 300, "250", "VIC"),
    City("Niagara Falls", "ON", "CA", "America/Toronto", 43.09, -79.08, 95, "905", "NIA"),
    City("Windsor", "ON", "CA", "America/Toronto", 42.31, -83.04, 230, "519", "WSR"),
    City("London", "ON", "CA", "America/Toronto", 42.98, -81.25, 420, "519", "LDN"),
    City("Kitchener", "ON", "CA", "America/Toronto", 43.45, -80.49, 260, "519", "KIT"),
    City("St. John's", "NL", "CA", "America/St_Johns", 47.56, -52.71, 110, "709", "SJN"),
    City("Moncton", "NB", "CA", "America/Moncton", 46.09, -64.78, 80, "506", "MCT"),
    City("Fredericton", "NB", "CA", "America/Moncton", 45.96, -66.64, 65, "506", "FRE"),
    City("Charlottetown", "PE", "CA", "America/Halifax", 46.24, -63.13, 40, "902", "CHA"),
    City("Kelowna", "BC", "CA", "America/Vancouver", 49.89, -119.50, 150, "250", "KEL"),
    City("Kamloops", "BC", "CA", "America/Vancouver", 50.67, -120.33, 100, "250", "KAM"),
    City("Nanaimo", "BC", "CA", "America/Vancouver", 49.17, -123.94, 100, "250", "NAN"),
    City("Barrie", "ON", "CA", "America/Toronto", 44.39, -79.69, 150, "705", "BAR"),
    City("Kingston", "ON", "CA", "America/Toronto", 44.23, -76.49, 130, "613", "KGN"),
    City("Oshawa", "ON", "CA", "America/Toronto", 43.90, -78.86, 175, "905", "OSH"),
    City("Sudbury", "ON", "CA", "America/Toronto", 46.49, -80.99, 165, "705", "SUD"),
    City("Thunder Bay", "ON", "CA", "America/Toronto", 48.38, -89.25, 110, "807", "THB"),
    City("Sherbrooke", "QC", "CA", "America/Toronto", 45.40, -71.89, 170, "819", "SHE"),
    City("Trois-Rivières", "QC", "CA", "America/Toronto", 46.34, -72.54, 140, "819", "TRV"),
    City("Lethbridge", "AB", "CA", "America/Edmonton", 49.69, -112.84, 100, "403", "LET"),
    City("Red Deer", "AB", "CA", "America/Edmonton", 52.27, -113.81, 100, "403", "RDR"),
    City("Fort McMurray", "AB", "CA", "America/Edmonton", 56.73, -111.38, 70, "780", "FMM"),
    City("Brandon", "MB", "CA", "America/Winnipeg", 49.85, -99.95, 50, "204", "BDN"),
    City("Whitehorse", "YT", "CA", "America/Whitehorse", 60.72, -135.06, 28, "867", "WHS"),
    City("Yellowknife", "NT", "CA", "America/Yellowknife", 62.45, -114.37, 20, "867", "YZF"),
    # Abroad: holiday destinations only (weight 0: nobody lives there).
    City("New York", "NY", "US", "America/New_York", 40.71, -74.01, 0, "212", "NYC"),
    City("Orlando", "FL", "US", "America/New_York", 28.54, -81.38, 0, "407", "ORL"),
    City("Las Vegas", "NV", "US", "America/Los_Angeles", 36.17, -115.14, 0, "702", "LAS"),
    City("Seattle", "WA", "US", "America/Los_Angeles", 47.61, -122.33, 0, "206", "SEA"),
    City("Cancún", "ROO", "MX", "America/Cancun", 21.16, -86.85, 0, "998", "CUN"),
)
# fmt: on

HOME_CITIES = tuple(i for i, c in enumerate(CITIES) if c.country == "CA")
ABROAD = tuple(i for i, c in enumerate(CITIES) if c.country != "CA")
CURRENCY = {"CA": "CAD", "US": "USD", "MX": "MXN"}
CAD_PER = {"CAD": 1.0, "USD": 1.37, "MXN": 0.076}  # fixed illustrative rates


def distance_km(a: int, b: int) -> float:
    """Great-circle distance between two cities (haversine)."""
    ca, cb = CITIES[a], CITIES[b]
    p1, p2 = math.radians(ca.lat), math.radians(cb.lat)
    dp, dl = p2 - p1, math.radians(cb.lon - ca.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12_742.0 * math.asin(math.sqrt(h))


def nearby(city: int, k: int, max_km: float = 800.0) -> list[int]:
    """Up to ``k`` other Canadian cities within ``max_km``, nearest first (circuits, trips).

    A remote city with nothing in range still gets its single nearest neighbour.
    """
    others = sorted((distance_km(city, j), j) for j in HOME_CITIES if j != city)
    return [j for d, j in others if d <= max_km][:k] or [others[0][1]]


class Clock:
    """Local wall time ⇄ UTC seconds for every zone used by ``CITIES``.

    Day ``d`` means local calendar day ``start + d``. Precomputes local midnights in UTC
    for each zone; a day whose length is not 24 h contains a DST transition and goes
    through ``zoneinfo`` row by row.
    """

    def __init__(self, start: date, days: int):
        self.start = start
        self.days = days
        names = sorted({c.zone for c in CITIES})
        self.zone_index = {z: i for i, z in enumerate(names)}
        self.city_zone = [self.zone_index[c.zone] for c in CITIES]
        self._zones = [ZoneInfo(z) for z in names]
        # Days -2 .. days+40 so events scheduled past the end (refunds, forwards) still resolve.
        self._first = -2
        span = range(self._first, days + 40)
        epoch0 = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
        self._naive = [epoch0 + d * DAY for d in span]  # local midnight read as if UTC
        self._dates = [(start + timedelta(days=d)).isoformat() for d in span]
        self._midnight = [
            [
                int(
                    datetime.combine(start + timedelta(days=d), datetime.min.time(), zi).timestamp()
                )
                for d in span
            ]
            for zi in self._zones
        ]
        self._offset_text: dict[int, str] = {}

    def utc(self, zone: int, day: int, tod: int) -> int:
        """UTC seconds of local ``day`` plus ``tod`` seconds (``tod`` may pass midnight)."""
        day += tod // DAY
        tod %= DAY
        i = day - self._first
        mids = self._midnight[zone]
        if mids[i + 1] - mids[i] == DAY:
            return mids[i] + tod
        local = datetime.combine(
            self.start + timedelta(days=day), datetime.min.time(), self._zones[zone]
        )
        return int((local + timedelta(seconds=tod)).timestamp())

    def local_day(self, zone: int, utc: int) -> int:
        """Local calendar day index of a UTC instant in ``zone``."""
        return bisect.bisect_right(self._midnight[zone], utc) - 1 + self._first

    def render(self, zone: int, utc: int) -> str:
        """RFC 3339 text with the local offset, e.g. ``2026-03-14T23:41:07-05:00``."""
        i = bisect.bisect_right(self._midnight[zone], utc) - 1
        mids = self._midnight[zone]
        if mids[i + 1] - mids[i] != DAY:  # DST transition day: the exact, slower path
            return datetime.fromtimestamp(utc, self._zones[zone]).isoformat()
        offset = self._naive[i] - mids[i]
        tod = utc - mids[i]
        text = self._offset_text.get(offset)
        if text is None:
            sign = "-" if offset < 0 else "+"
            hh, mm = divmod(abs(offset) // 60, 60)
            text = self._offset_text[offset] = f"{sign}{hh:02d}:{mm:02d}"
        return f"{self._dates[i]}T{tod // 3600:02d}:{tod // 60 % 60:02d}:{tod % 60:02d}{text}"

    def end_utc(self) -> int:
        """The instant after which no row of the period can fall (last midnight, westmost zone)."""
        return max(m[self.days - self._first] for m in self._midnight)

    def day_cutoff(self, day: int) -> int:
        """Earliest local midnight of ``day + 1`` over all zones: rows before it are final."""
        return min(m[day + 1 - self._first] for m in self._midnight)
