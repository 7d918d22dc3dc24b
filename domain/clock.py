"""The one place that says what day it is. Takedown depends on the local date of
the bureau (China has one time zone and no daylight saving), and tests fix it by
monkeypatching ``today``; callers must use ``clock.today()``, not import the name."""

from __future__ import annotations

import datetime as dt

CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8), "CST")


def today() -> dt.date:
    return dt.datetime.now(CHINA_STANDARD_TIME).date()


def add_years(day: dt.date, years: int) -> dt.date:
    """Same calendar day ``years`` later; 29 February becomes 1 March."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, month=3, day=1)


def now() -> dt.datetime:
    """The bureau's local time, on the date ``today()`` gives (so a test that
    moves the date moves this too)."""
    return dt.datetime.combine(today(), dt.datetime.now(CHINA_STANDARD_TIME).time())
