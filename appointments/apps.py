from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"

    def ready(self) -> None:
        # Lower layers cannot import scheduling; it plugs into their registries
        # (treatments.hooks, treatments.selectors) once every app is loaded.
        from appointments.selectors import annotate_session_counts
        from appointments.services import appointments_cancel_upcoming
        from appointments.services.evaluations import evaluation_link_plan
        from appointments.views import chart_evaluations
        from patients.chart import ChartSection, register_section
        from treatments import hooks, selectors

        hooks.on_plan_closed(appointments_cancel_upcoming)
        hooks.on_plan_created(evaluation_link_plan)
        selectors.register_session_counter(annotate_session_counts)
        register_section(
            ChartSection("evaluations", "appointments/_chart_evaluations.html", chart_evaluations, order=5)
        )
