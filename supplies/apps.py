from django.apps import AppConfig


class SuppliesConfig(AppConfig):
    name = "supplies"

    def ready(self) -> None:
        # Notes and treatments cannot import supplies (apps depend one way):
        # stock plugs into the note services' registry, and the plan page
        # gets the course's economics as a section.
        from appointments.hooks import on_visit_voided
        from notes import hooks
        from supplies.note_stock import NoteStock
        from supplies.services import visit_voided
        from supplies.views import plan_section
        from treatments.plan_page import PlanSection, register_section

        hooks.register_stock(NoteStock())
        on_visit_voided(visit_voided)
        register_section(PlanSection("economics", "supplies/_plan_economics.html", plan_section, order=50))
