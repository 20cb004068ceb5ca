from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"

    def ready(self) -> None:
        # Lower layers cannot import scheduling; it plugs into their registries
        # (treatments.hooks, treatments.selectors) once every app is loaded.
        from appointments import hooks as scheduling_hooks
        from appointments.reminders.metrics import outbox_metrics
        from appointments.selectors import annotate_authorization_use, annotate_session_counts
        from appointments.services import (
            appointments_cancel_upcoming,
            waitlist_after_booked,
            waitlist_close_for_plan,
        )
        from appointments.services.evaluations import evaluation_link_plan
        from appointments.views import chart_attendance, chart_evaluations
        from clinic import metrics
        from patients.chart import ChartSection, register_section
        from treatments import hooks, selectors

        hooks.on_plan_closed(appointments_cancel_upcoming)
        hooks.on_plan_closed(waitlist_close_for_plan)
        hooks.on_plan_created(evaluation_link_plan)
        scheduling_hooks.on_booked(waitlist_after_booked)
        selectors.register_session_counter(annotate_session_counts)
        selectors.register_authorization_counter(annotate_authorization_use)
        register_section(
            ChartSection("evaluations", "appointments/_chart_evaluations.html", chart_evaluations, order=5)
        )
        register_section(
            ChartSection("attendance", "appointments/_chart_attendance.html", chart_attendance, order=6)
        )
        metrics.register_collector(outbox_metrics)
