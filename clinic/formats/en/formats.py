"""The clinic's date and time format on every page: "Mon 7 Dec 2026, 09:00"
(24-hour clock, day before month, the weekday where a visit is concerned).
Templates use the names: {{ visit.start|date:"DATETIME_FORMAT" }}. Form
inputs keep ISO dates (DATE_INPUT_FORMATS is Django's)."""

DATE_FORMAT = "D j M Y"  # a visit's day: Mon 7 Dec 2026
DATETIME_FORMAT = "D j M Y, H:i"  # a visit or an event: Mon 7 Dec 2026, 09:00
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M Y"  # birth dates, expiry and prescription dates: 7 Dec 1980
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
FIRST_DAY_OF_WEEK = 1  # Monday, as on the calendar
