"""Sections that apps above notes add to a plan's progress page (e.g. the
home program's adherence and home HDSS, beside the clinic's sessions),
registered from their AppConfig's `ready()` (clinic.sections)."""

from clinic.sections import Section, Sections

ProgressSection = Section
SECTIONS = Sections()
register_section = SECTIONS.register
sections_for = SECTIONS.for_page
