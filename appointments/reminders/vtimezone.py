"""A VTIMEZONE built from the zone's current rules, the way calendar servers
ship them: one STANDARD and one DAYLIGHT observance, each with a yearly RRULE
("second Sunday of March at 02:00"), instead of a list of dated transitions.

Why not `icalendar.Calendar.add_missing_timezones`: it writes one DTSTART or
RDATE per transition, starts with an observance of its own making, and puts
the spring onset at the wall time *after* the jump (03:00 instead of 02:00).
Mozilla's ical.js (Thunderbird) and python's vobject then resolve some dates
an hour off. An RRULE definition is what both were written and tested
against (tzurl.org, Apple's and Google's servers).

The rules are read from the zone's actual transitions (zoneinfo) around the
visit and checked against them for the year before, the year of and the year
after the visit; a zone whose rules do not fit a yearly pattern there (a
government changed them) falls back to dated transitions for that window.
"""

from __future__ import annotations

import calendar as monthcal
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
UTC = dt.UTC


@dataclass(frozen=True)
class Transition:
    at: dt.datetime  # the UTC instant
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str  # the abbreviation after the change
    is_dst: bool

    @property
    def wall(self) -> dt.datetime:
        """The local wall time at which it happens, read on the old offset
        (RFC 5545 §3.6.5: DTSTART of an observance is in TZOFFSETFROM)."""
        return (self.at + self.offset_from).replace(tzinfo=None)

    def rule(self) -> tuple[int, int, str, dt.time]:
        """(month, occurrence, weekday, wall time): occurrence -1 means the
        last such weekday of the month."""
        wall = self.wall
        days_in_month = monthcal.monthrange(wall.year, wall.month)[1]
        occurrence = -1 if wall.day + 7 > days_in_month else (wall.day - 1) // 7 + 1
        return wall.month, occurrence, DAYS[wall.weekday()], wall.time()


def _offset(zone: ZoneInfo, moment: dt.datetime) -> dt.timedelta:
    return moment.astimezone(zone).utcoffset()


def transitions(zone: ZoneInfo, year: int) -> list[Transition]:
    """The zone's offset changes during `year` (UTC), to the minute."""
    found = []
    start = dt.datetime(year, 1, 1, tzinfo=UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=UTC)
    step = dt.timedelta(hours=6)
    moment = start
    before = _offset(zone, moment)
    while moment < end:
        later = moment + step
        after = _offset(zone, later)
        if after != before:
            lo, hi = moment, later  # the change lies in (lo, hi], on a whole second
            while hi - lo > dt.timedelta(seconds=1):
                mid = (lo + (hi - lo) / 2).replace(microsecond=0)
                if _offset(zone, mid) == before:
                    lo = mid
                else:
                    hi = mid
            local = hi.astimezone(zone)
            found.append(Transition(hi, before, after, local.tzname() or "", bool(local.dst())))
            before = after
        moment = later
    return found


def _fmt_offset(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{mins:02d}"


def _fmt_wall(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _observance(kind: str, first: Transition, rrule: str | None, rdates: list[Transition] = ()) -> list[str]:
    lines = [
        f"BEGIN:{kind}",
        f"DTSTART:{_fmt_wall(first.wall)}",
        f"TZOFFSETFROM:{_fmt_offset(first.offset_from)}",
        f"TZOFFSETTO:{_fmt_offset(first.offset_to)}",
    ]
    if rrule:
        lines.append(f"RRULE:{rrule}")
    lines += [f"RDATE:{_fmt_wall(t.wall)}" for t in rdates]
    if first.name:
        lines.append(f"TZNAME:{first.name}")
    lines.append(f"END:{kind}")
    return lines


def _rrule(transition: Transition) -> str:
    month, occurrence, weekday, _ = transition.rule()
    return f"FREQ=YEARLY;BYMONTH={month};BYDAY={occurrence}{weekday}"


def _yearly(changes_by_year: list[list[Transition]]) -> tuple[Transition, Transition] | None:
    """The two yearly rules (onset, end of daylight time) if every year in
    the window has the same two changes by the same rule, else None."""
    shapes = set()
    for changes in changes_by_year:
        if len(changes) != 2:
            return None
        shapes.add(tuple((t.is_dst, t.offset_from, t.offset_to, t.name, t.rule()) for t in changes))
    if len(shapes) != 1:
        return None
    first_year = changes_by_year[0]
    daylight = next(t for t in first_year if t.is_dst)
    standard = next(t for t in first_year if not t.is_dst)
    return daylight, standard


@lru_cache(maxsize=64)
def vtimezone_lines(tzid: str, year: int) -> tuple[str, ...]:
    """The VTIMEZONE of `tzid` valid for every date of `year` (and the years
    either side, so an invitation for early January or late December holds)."""
    zone = ZoneInfo(tzid)
    years = [year - 1, year, year + 1]
    changes = [transitions(zone, y) for y in years]
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tzid}"]
    rules = _yearly(changes)
    if rules is not None:
        daylight, standard = rules
        lines += _observance("DAYLIGHT", daylight, _rrule(daylight))
        lines += _observance("STANDARD", standard, _rrule(standard))
    elif not any(changes):
        # No daylight saving time: one fixed observance.
        start = dt.datetime(year - 1, 1, 1, tzinfo=UTC)
        local = start.astimezone(zone)
        offset = local.utcoffset()
        lines += _observance("STANDARD", Transition(start, offset, offset, local.tzname() or "", False), None)
    else:
        # Rules changed inside the window: dated transitions, each observance
        # starting at a real change (never an invented one).
        flat = [t for year_changes in changes for t in year_changes]
        for is_dst, kind in ((True, "DAYLIGHT"), (False, "STANDARD")):
            group = [t for t in flat if t.is_dst == is_dst]
            if group:
                lines += _observance(kind, group[0], None, group[1:])
    lines.append("END:VTIMEZONE")
    return tuple(lines)


def vtimezone(tzid: str, year: int) -> str:
    return "\r\n".join(vtimezone_lines(tzid, year)) + "\r\n"
