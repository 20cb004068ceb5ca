"""Sections that apps above treatments add to the plan page.

Treatments must not import supplies or the home program (apps depend one
way), yet the plan page shows the course's running cost and its home
program: each app registers a section (clinic.sections) in its AppConfig's
`ready()`; a section whose context is None is not shown to that viewer.
"""

from clinic.sections import Section, Sections

PlanSection = Section
SECTIONS = Sections()
register_section = SECTIONS.register
sections_for = SECTIONS.for_page
