"""The benchmark clinic, generated without touching the database.

A clinic group with 40 therapists, 20 rooms, 30 devices and 10,000 patients,
and an endless, deterministic stream of courses of treatment (a plan and its
sessions) spread over two years around an anchor date. `seed_bench` inserts a
prefix of that stream: the dataset at N appointments is the same whether it
was built in one go or grown 1k → 10k → 100k.

Two years of 40 therapists hold about 165,000 sessions at most (past ~130k
nearly every course finds no room), so the stream works in *eras*: the first
`ERA_COURSES` courses (~122,000 sessions) fill the two years around the
anchor, the next ones the two years before those, and so on back (1M
appointments: ~8 eras, 16 years of history). Each era has its own leave,
training and holidays and the same clinic, statuses and mix of courses;
the first era is exactly the stream as it was before eras existed.

Overlaps are impossible by construction (the PostgreSQL exclusion constraints
would refuse them): every session takes whole 15-minute cells of a day, and
each therapist, room, device and patient has a bit mask of taken cells per
day. Sessions are placed only inside the therapist's working hours, never on
a clinic closure or during their leave or training, and only where a room
and a device of the right kind are free.

Randomness comes from one `random.Random(seed)` consumed in a fixed order;
statuses (which depend on "now") draw numbers that are taken whether or not
they are used, so the layout never depends on the day it is generated.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

SEED = 20240901
THERAPISTS = 40
ROOMS = 20
PATIENTS = 10_000
WAITING_PLANS = 600  # active plans with no session yet: referrals the benchmarks book
DAYS_BACK = 640  # ~21 months of history ...
DAYS_AHEAD = 90  # ... and three months booked ahead: two years in all
ERA_DAYS = DAYS_BACK + DAYS_AHEAD + 1  # each earlier era: the two years just before the next one
ERA_COURSES = 20_000  # courses (placed or not) per era: ~122,000 sessions, well short of saturation

# The day grid: 15-minute cells from 07:00 to 19:00 clinic time.
CELL_MINUTES = 15
FIRST_CELL = dt.time(7, 0)
CELLS = 48

MRN_PREFIX = "BN"
USERNAME_PREFIX = "bench-"
FRONT_DESK_USERNAME = "bench-frontdesk"
ROOM_PREFIX = "Treatment room "
DEVICE_SERIAL_PREFIX = "BENCH-"
WAITING_INDICATION = "Referral, awaiting first session"

IONTO, PHONO, TAP = "iontophoresis", "phonophoresis", "tap_water"
MODALITY_WEIGHTS = ((IONTO, 0.60), (PHONO, 0.25), (TAP, 0.15))


def cell_of(at: dt.time) -> int:
    return ((at.hour * 60 + at.minute) - (FIRST_CELL.hour * 60 + FIRST_CELL.minute)) // CELL_MINUTES


def time_of(cell: int) -> dt.time:
    minutes = FIRST_CELL.hour * 60 + FIRST_CELL.minute + cell * CELL_MINUTES
    return dt.time(minutes // 60, minutes % 60)


def mask(first: int, count: int) -> int:
    return ((1 << count) - 1) << first


# -- the fixed clinic ------------------------------------------------------------
# Weekly working patterns (weekday → blocks of HH:MM), staggered so the clinic
# is open 07:00–18:30 on weekdays and Saturday mornings.
PATTERNS: tuple[dict[int, tuple[tuple[str, str], ...]], ...] = (
    {d: (("08:00", "12:00"), ("12:30", "16:30")) for d in range(5)},
    {d: (("10:00", "14:00"), ("14:30", "18:30")) for d in range(5)},
    {d: (("07:00", "11:00"), ("11:30", "15:30")) for d in range(5)},
    {d: (("08:00", "12:00"), ("13:00", "17:00")) for d in (0, 2, 4)},
    {d: (("08:00", "12:00"), ("13:00", "17:00")) for d in range(1, 6)},
)

# name, concentration, charge, modality, weight within the modality
MEDICATIONS = (
    ("Dexamethasone sodium phosphate", "4 mg/mL", "negative", IONTO, 0.75),
    ("Lidocaine HCl", "4 %", "positive", IONTO, 0.08),
    ("Acetic acid", "2 %", "negative", IONTO, 0.10),
    ("Sodium chloride", "2 %", "negative", IONTO, 0.07),
    ("Dexamethasone gel", "0.4 %", "none", PHONO, 0.55),
    ("Hydrocortisone cream", "10 %", "none", PHONO, 0.25),
    ("Ketoprofen gel", "10 %", "none", PHONO, 0.20),
)

# body site, ICD-10, indication
SITES = {
    IONTO: (
        ("Lateral epicondyle", "M77.11", "Lateral epicondylitis"),
        ("Plantar fascia", "M72.2", "Plantar fasciitis"),
        ("Achilles tendon", "M76.61", "Achilles tendinitis"),
        ("Subacromial bursa", "M75.51", "Bursitis of shoulder"),
        ("Patellar tendon", "M76.51", "Patellar tendinitis"),
        ("Radial styloid", "M65.4", "De Quervain tenosynovitis"),
        ("Calcific deposit, shoulder", "M75.31", "Calcific tendinitis of shoulder"),
    ),
    PHONO: (
        ("Lateral epicondyle", "M77.11", "Lateral epicondylitis"),
        ("Rotator cuff", "M75.101", "Rotator cuff tendinopathy"),
        ("Medial knee", "M70.51", "Pes anserine bursitis"),
        ("Upper trapezius", "M79.18", "Myalgia"),
    ),
    TAP: (
        ("Palms", "L74.512", "Primary focal hyperhidrosis, palms"),
        ("Soles", "L74.513", "Primary focal hyperhidrosis, soles"),
    ),
}

CANCEL_REASONS = (
    "Patient called: unwell",
    "Patient called: work conflict",
    "Transport fell through",
    "Therapist unavailable",
    "Weather",
    "Rescheduled by patient",
)
PRESCRIBERS = (
    "Dr. A. Example",
    "Dr. B. Sample",
    "Dr. C. Placeholder",
    "Dr. D. Fictive",
    "Dr. E. Synthetic",
)


@dataclass(frozen=True)
class TherapistSpec:
    username: str
    display_name: str
    modalities: tuple[str, ...]
    hours: dict[int, tuple[tuple[dt.time, dt.time], ...]]
    leave: tuple[tuple[int, int], ...]  # (first day index, last day index) of each leave
    training: tuple[tuple[int, int, int], ...]  # (day index, first cell, cells)


@dataclass(frozen=True)
class RoomSpec:
    name: str
    modalities: tuple[str, ...]


@dataclass(frozen=True)
class DeviceSpec:
    name: str
    kind: str  # Device.Kind value
    serial: str
    home_room: int | None  # index into rooms
    in_service: bool


@dataclass(frozen=True)
class PatientSpec:
    mrn: str
    first_name: str
    last_name: str
    date_of_birth: dt.date
    sex: str
    email: str
    phone: str
    reminder_opt_in: bool
    screened_days_ago: int


@dataclass
class Layout:
    """Everything fixed about the benchmark clinic."""

    seed: int
    anchor: dt.date
    days: list[dt.date]
    closures: list[tuple[dt.date, str]]
    therapists: list[TherapistSpec]
    rooms: list[RoomSpec]
    devices: list[DeviceSpec]
    patients: int
    era: int = 0  # 0: the two years around the anchor; k: the two years k eras before

    @property
    def closed(self) -> set[dt.date]:
        return {day for day, _ in self.closures}


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    day = first + dt.timedelta(days=(weekday - first.weekday()) % 7)
    return day + dt.timedelta(weeks=n - 1)


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    day = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return day - dt.timedelta(days=(day.weekday() - weekday) % 7)


def holidays(first: dt.date, last: dt.date) -> list[tuple[dt.date, str]]:
    """US clinic holidays between two dates."""
    found = []
    for year in range(first.year, last.year + 1):
        for day, name in (
            (dt.date(year, 1, 1), "New Year's Day"),
            (_last_weekday(year, 5, 0), "Memorial Day"),
            (dt.date(year, 7, 4), "Independence Day"),
            (_nth_weekday(year, 9, 0, 1), "Labor Day"),
            (_nth_weekday(year, 11, 3, 4), "Thanksgiving"),
            (dt.date(year, 12, 25), "Christmas Day"),
        ):
            if first <= day <= last:
                found.append((day, name))
    return sorted(found)


def _hhmm(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def build_layout(*, anchor: dt.date, seed: int = SEED, patients: int = PATIENTS, era: int = 0) -> Layout:
    """The clinic around the anchor; with `era` k, the same clinic over the
    two years k eras back (its own leave, training and holidays)."""
    rng = random.Random(f"layout-{seed}" if era == 0 else f"layout-{seed}-era-{era}")
    shift = dt.timedelta(days=ERA_DAYS * era)
    first = anchor - dt.timedelta(days=DAYS_BACK) - shift
    last = anchor + dt.timedelta(days=DAYS_AHEAD) - shift
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    names = _names(seed, THERAPISTS, salt="therapist")
    therapists = []
    for i in range(THERAPISTS):
        if i % 8 == 6:
            modalities: tuple[str, ...] = (IONTO, PHONO)
        elif i % 8 == 7:
            modalities = (IONTO, TAP)
        else:
            modalities = (IONTO, PHONO, TAP)
        pattern = PATTERNS[i % len(PATTERNS)]
        hours = {d: tuple((_hhmm(s), _hhmm(e)) for s, e in blocks) for d, blocks in pattern.items()}
        # Two weeks of leave a year and a training half-day a quarter.
        leave = []
        for _ in range(len(days) // 365 * 2 + 1):
            start = rng.randrange(len(days) - 7)
            leave.append((start, start + 6))
        training = []
        for _ in range(len(days) // 91):
            day = rng.randrange(len(days))
            training.append((day, cell_of(dt.time(13, 0)), 16))
        first_name, last_name = names[i]
        credential = ("PT", "PTA", "RN", "DPT")[i % 4]
        therapists.append(
            TherapistSpec(
                username=f"{USERNAME_PREFIX}therapist-{i + 1:02d}",
                display_name=f"{first_name} {last_name}, {credential}",
                modalities=modalities,
                hours=hours,
                leave=tuple(leave),
                training=tuple(training),
            )
        )
    rooms = []
    for i in range(ROOMS):
        if i < 12:
            modalities = (IONTO, PHONO)
        elif i < 16:
            modalities = (IONTO, PHONO, TAP)
        else:
            modalities = (TAP,)
        rooms.append(RoomSpec(name=f"{ROOM_PREFIX}{i + 1:02d}", modalities=modalities))
    devices = []
    for kind, count, label, code in (
        ("iontophoresis", 14, "Dupel B.L.U.E.", "ION"),
        ("ultrasound", 10, "Sonicator 740", "US"),
        ("tap_water", 6, "Hidrex PT", "TW"),
    ):
        for j in range(count):
            home = {"iontophoresis": j % 16, "ultrasound": j % 16, "tap_water": 12 + j % 8}[kind]
            devices.append(
                DeviceSpec(
                    name=f"{label} #{j + 1}",
                    kind=kind,
                    serial=f"{DEVICE_SERIAL_PREFIX}{code}-{j + 1:03d}",
                    home_room=home,
                    # one ultrasound unit is away for repair: never booked
                    in_service=not (kind == "ultrasound" and j == count - 1),
                )
            )
    return Layout(
        seed=seed,
        anchor=anchor,
        days=days,
        closures=holidays(first, last),
        therapists=therapists,
        rooms=rooms,
        devices=devices,
        patients=patients,
        era=era,
    )


def era_layout(layout: Layout, era: int) -> Layout:
    if era == layout.era:
        return layout
    return build_layout(anchor=layout.anchor, seed=layout.seed, patients=layout.patients, era=era)


def _names(seed: int, count: int, *, salt: str) -> list[tuple[str, str]]:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(f"{salt}-{seed}")
    return [(fake.first_name(), fake.last_name()) for _ in range(count)]


def patient_specs(layout: Layout) -> Iterator[PatientSpec]:
    """Synthetic patients (Faker, fixed seed); MRNs BN00000001…"""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(f"patients-{layout.seed}")
    rng = random.Random(f"patients-{layout.seed}")
    for i in range(layout.patients):
        sex = rng.choice(("female", "male", "female", "male", "other", "unknown"))
        first = fake.first_name_female() if sex == "female" else fake.first_name_male()
        last = fake.last_name()
        born = layout.anchor - dt.timedelta(days=rng.randrange(16 * 365, 88 * 365))
        yield PatientSpec(
            mrn=f"{MRN_PREFIX}{i + 1:08d}",
            first_name=first,
            last_name=last,
            date_of_birth=born,
            sex=sex,
            email=f"{first}.{last}.{i + 1}@example.invalid".lower().replace(" ", "").replace("'", ""),
            # 555-0100…0199 are the numbers reserved for fiction
            phone=f"+1202555{100 + i % 100:04d}",
            reminder_opt_in=rng.random() < 0.9,
            screened_days_ago=rng.randrange(0, 120),
        )


# -- the stream of courses ------------------------------------------------------
@dataclass
class Session:
    number: int  # 1-based within the course
    therapist: int
    day: int  # index into layout.days
    cell: int
    minutes: int
    room: int
    device: int
    draw: float  # uniform draws for the status, taken whatever the status turns out to be
    draw2: float

    def start_time(self) -> dt.time:
        return time_of(self.cell)


@dataclass
class Course:
    index: int
    patient: int  # index into the patients
    modality: str
    medication: int | None  # index into MEDICATIONS
    site: tuple[str, str, str]
    side: str
    prescriber: str
    sessions_prescribed: int
    sessions_authorized: int | None
    frequency_per_week: int
    min_interval_hours: int
    session_minutes: int
    params: dict
    sessions: list[Session] = field(default_factory=list)
    plan_id: int | None = None  # set when its plan row is written
    layout: Layout | None = field(default=None, repr=False, compare=False)  # its era's (days index it)


MINUTES = {IONTO: 30, PHONO: 20, TAP: 40}


class Generator:
    """Yields courses in a fixed order; remembers every cell it gave out."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.rng = random.Random(
            f"courses-{layout.seed}" if layout.era == 0 else f"courses-{layout.seed}-era-{layout.era}"
        )
        self.closed = {i for i, day in enumerate(layout.days) if day in layout.closed}
        self.busy_therapist: dict[tuple[int, int], int] = {}
        self.busy_room: dict[tuple[int, int], int] = {}
        self.busy_device: dict[tuple[int, int], int] = {}
        self.busy_patient: dict[tuple[int, int], int] = {}
        self.available: dict[tuple[int, int], int] = {}
        self.qualified = {
            m: [i for i, t in enumerate(layout.therapists) if m in t.modalities] for m in (IONTO, PHONO, TAP)
        }
        self.rooms_for = {
            m: [i for i, r in enumerate(layout.rooms) if m in r.modalities] for m in (IONTO, PHONO, TAP)
        }
        kind = {IONTO: "iontophoresis", PHONO: "ultrasound", TAP: "tap_water"}
        self.devices_for = {
            m: [i for i, d in enumerate(layout.devices) if d.kind == kind[m] and d.in_service]
            for m in (IONTO, PHONO, TAP)
        }
        self.blocked: dict[int, dict[int, int]] = {}  # therapist → day → mask of leave/training
        for t, spec in enumerate(layout.therapists):
            blocked: dict[int, int] = {}
            for first, last in spec.leave:
                for day in range(first, last + 1):
                    blocked[day] = mask(0, CELLS)
            for day, cell, count in spec.training:
                blocked[day] = blocked.get(day, 0) | mask(cell, count)
            self.blocked[t] = blocked
        self.weekday_mask = [
            {
                weekday: sum(mask(cell_of(s), cell_of(e) - cell_of(s)) for s, e in blocks)
                for weekday, blocks in spec.hours.items()
            }
            for spec in layout.therapists
        ]

    # -- availability --------------------------------------------------------
    def working(self, therapist: int, day: int) -> int:
        key = (therapist, day)
        found = self.available.get(key)
        if found is None:
            if day in self.closed:
                found = 0
            else:
                weekday = self.layout.days[day].weekday()
                found = self.weekday_mask[therapist].get(weekday, 0) & ~self.blocked[therapist].get(day, 0)
            self.available[key] = found
        return found

    def _free(self, busy: dict, key: tuple[int, int], want: int) -> bool:
        return not busy.get(key, 0) & want

    def _pick(self, busy: dict, choices: list[int], day: int, want: int, offset: int) -> int | None:
        count = len(choices)
        for k in range(count):
            choice = choices[(offset + k) % count]
            if not busy.get((choice, day), 0) & want:
                return choice
        return None

    def place(self, course: Course, therapist: int, day: int, cell: int) -> Session | None:
        """Take the cells for one session if therapist, patient, a room and a device are free."""
        cells = math.ceil(course.session_minutes / CELL_MINUTES)
        if cell < 0 or cell + cells > CELLS:
            return None
        want = mask(cell, cells)
        if self.working(therapist, day) & want != want:
            return None
        if not self._free(self.busy_therapist, (therapist, day), want):
            return None
        if not self._free(self.busy_patient, (course.patient, day), want):
            return None
        offset = day * 7 + cell
        room = self._pick(self.busy_room, self.rooms_for[course.modality], day, want, offset)
        if room is None:
            return None
        device = self._pick(self.busy_device, self.devices_for[course.modality], day, want, offset)
        if device is None:
            return None
        for busy, key in (
            (self.busy_therapist, (therapist, day)),
            (self.busy_patient, (course.patient, day)),
            (self.busy_room, (room, day)),
            (self.busy_device, (device, day)),
        ):
            busy[key] = busy.get(key, 0) | want
        return Session(0, therapist, day, cell, course.session_minutes, room, device, 0.0, 0.0)

    # -- courses -----------------------------------------------------------
    def new_course(self, index: int) -> Course:
        rng = self.rng
        roll = rng.random()
        modality = IONTO if roll < 0.60 else PHONO if roll < 0.85 else TAP
        medication = None
        if modality != TAP:
            options = [(i, m[4]) for i, m in enumerate(MEDICATIONS) if m[3] == modality]
            medication = rng.choices([i for i, _ in options], weights=[w for _, w in options])[0]
        site = rng.choice(SITES[modality])
        patient = rng.randrange(self.layout.patients)
        side = rng.choice(("left", "right", "right")) if modality != TAP else "bilateral"
        prescriber = rng.choice(PRESCRIBERS)
        authorized_roll = rng.random()
        if modality == IONTO:
            prescribed, freq, interval = 6, 2, 48
            charge = MEDICATIONS[medication][2]
            params = {
                "dose_ma_min": 40 if rng.random() < 0.8 else 60,
                "current_ma": 4 if rng.random() < 0.7 else 3,
                "polarity": charge,
                "electrode_type": "buffered",
            }
        elif modality == PHONO:
            prescribed, freq, interval = 6, 2 if rng.random() < 0.7 else 3, 24
            params = {
                "frequency_mhz": 1 if rng.random() < 0.6 else 3,
                "intensity_w_cm2": rng.choice((1.0, 1.2, 1.5)),
                "duty_cycle_pct": rng.choice((100, 50, 20)),
                "treatment_minutes": rng.choice((5, 8, 10)),
            }
        else:
            prescribed, freq, interval = 10, 3, 24
            params = {
                "tray": "hands" if site[0] == "Palms" else "feet",
                "current_ma": rng.choice((12, 15, 18)),
                "treatment_minutes": 20 if site[0] == "Palms" else 30,
                "polarity_alternation": "midway",
                "maintenance_interval_days": 14,
            }
        authorized = prescribed if authorized_roll < 0.6 else None
        return Course(
            index=index,
            patient=patient,
            modality=modality,
            medication=medication,
            site=site,
            side=side,
            prescriber=prescriber,
            sessions_prescribed=prescribed,
            sessions_authorized=authorized,
            frequency_per_week=freq,
            min_interval_hours=interval,
            session_minutes=MINUTES[modality],
            params=params,
            layout=self.layout,
        )

    def _candidates(self, course: Course, therapist: int, day: int, cell: int):
        yield therapist, cell
        for delta in (2, -2, 4, -4, 6, -6, 8, -8, 12, -12, 16, -16):
            yield therapist, cell + delta
        others = self.qualified[course.modality]
        start = self.rng.randrange(len(others))
        for k in range(6):
            yield others[(start + k) % len(others)], cell

    def courses(self) -> Iterator[Course]:
        """The era's courses that got at least one session (ERA_COURSES tried)."""
        layout = self.layout
        index = layout.era * ERA_COURSES
        while index < (layout.era + 1) * ERA_COURSES:
            course = self.new_course(index)
            rng = self.rng
            therapist = rng.choice(self.qualified[course.modality])
            first = rng.randrange(len(layout.days))
            stops_early = rng.random() < 0.15
            planned = course.sessions_prescribed - (rng.randint(1, 3) if stops_early else 0)
            blocks = [b for blocks in layout.therapists[therapist].hours.values() for b in blocks]
            block = rng.choice(blocks)
            length = math.ceil(course.session_minutes / CELL_MINUTES)
            cell = rng.randrange(cell_of(block[0]), cell_of(block[1]) - length + 1)
            min_days = math.ceil(course.min_interval_hours / 24)
            previous: int | None = None
            last: tuple[int, int] | None = None
            per_week: dict[tuple[int, int], int] = {}
            for j in range(planned):
                draw, draw2 = rng.random(), rng.random()
                ideal = first + math.floor(j * 7 / course.frequency_per_week + 0.5)
                day = ideal if previous is None else max(ideal, previous + min_days)
                placed = None
                for _ in range(10):
                    if day >= len(layout.days):
                        break
                    week = layout.days[day].isocalendar()[:2]
                    if per_week.get(week, 0) < course.frequency_per_week and self.working(therapist, day):
                        for who, at in self._candidates(course, therapist, day, cell):
                            if (
                                last is not None
                                and _hours_between(last, (day, at)) < course.min_interval_hours
                            ):
                                continue  # R5: a moved time must keep the plan's spacing
                            placed = self.place(course, who, day, at)
                            if placed:
                                break
                        if placed:
                            break
                    day += 1
                if day >= len(layout.days):
                    break  # past the horizon: not booked yet
                if placed is None:
                    continue  # nothing free that week: the patient got one session fewer
                placed.number = len(course.sessions) + 1
                placed.draw, placed.draw2 = draw, draw2
                course.sessions.append(placed)
                previous, last = day, (day, placed.cell)
                per_week[week] = per_week.get(week, 0) + 1
            if course.sessions:
                yield course
            index += 1


def _hours_between(earlier: tuple[int, int], later: tuple[int, int]) -> float:
    return (later[0] - earlier[0]) * 24 + (later[1] - earlier[1]) * CELL_MINUTES / 60


def sessions(layout: Layout) -> Iterator[tuple[Course, Session]]:
    """Every session of the stream in insertion order, era after era (endless)."""
    era = 0
    while True:
        for course in Generator(era_layout(layout, era)).courses():
            for session in course.sessions:
                yield course, session
        era += 1
