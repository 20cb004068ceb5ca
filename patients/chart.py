"""Sections that apps depending on patients add to the patient chart.

Patients must not import treatments or appointments (apps depend one way),
yet the chart shows their plans and visits: each of those apps registers a
section (clinic.sections) in its AppConfig's `ready()`.
"""

from clinic.sections import Section, Sections

ChartSection = Section
SECTIONS = Sections()
register_section = SECTIONS.register
sections_for = SECTIONS.for_page
