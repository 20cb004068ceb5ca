from django.apps import AppConfig


class HomecareConfig(AppConfig):
    name = "homecare"
    verbose_name = "Home program"

    def ready(self) -> None:
        # Lower layers cannot import the home program (apps depend one way):
        # it plugs into their registries — the outbox's message kinds and
        # context (appointments.reminders.kinds), and sections of the patient
        # chart, the plan page and the progress page (clinic.sections).
        from appointments.models import Reminder
        from appointments.reminders import kinds
        from homecare import messages, views
        from notes import progress_page
        from patients import chart
        from treatments import plan_page

        for kind in Reminder.HOME_KINDS:
            kinds.register_kind(kind, messages.check)
        kinds.register_context(messages.extend)
        kinds.register_batch(messages.prepare_batch)
        chart.register_section(
            chart.ChartSection("home", "homecare/_chart_section.html", views.chart_section, 7)
        )
        plan_page.register_section(
            plan_page.PlanSection("home", "homecare/_plan_section.html", views.plan_section, order=40)
        )
        progress_page.register_section(
            progress_page.ProgressSection("home", "homecare/_progress_section.html", views.progress_section)
        )
