from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"

    def ready(self) -> None:
        # Lower layers cannot import scheduling; it plugs into their registries
        # (treatments.hooks, treatments.selectors) once every app is loaded.
        from appointments.reminders.metrics import outbox_metrics
        from appointments.selectors import annotate_session_counts
        from appointments.services import appointments_cancel_upcoming
        from clinic import metrics
        from treatments import hooks, selectors

        hooks.on_plan_closed(appointments_cancel_upcoming)
        selectors.register_session_counter(annotate_session_counts)
        metrics.register_collector(outbox_metrics)
