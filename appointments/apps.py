from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"

    def ready(self) -> None:
        # Lower layers cannot import scheduling; it plugs into their registries
        # (treatments.hooks, treatments.selectors) once every app is loaded.
        from appointments.selectors import annotate_authorization_use, annotate_session_counts
        from appointments.services import appointments_cancel_upcoming, waitlist_close_for_plan
        from treatments import hooks, selectors

        hooks.on_plan_closed(appointments_cancel_upcoming)
        hooks.on_plan_closed(waitlist_close_for_plan)

        from appointments import hooks as booking_hooks
        from appointments.services import waitlist_after_booked

        booking_hooks.on_booked(waitlist_after_booked)

        from appointments.views import chart_attendance
        from patients.chart import ChartSection, register_section

        register_section(
            ChartSection("attendance", "appointments/_chart_attendance.html", chart_attendance, order=5)
        )
        selectors.register_session_counter(annotate_session_counts)
        selectors.register_authorization_counter(annotate_authorization_use)
