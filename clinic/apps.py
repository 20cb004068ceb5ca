from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        from clinic.celery import ensure_embedded_broker_dirs

        ensure_embedded_broker_dirs()
        from clinic import db, lookups

        db.install()
        lookups.install()
        # Signal receivers: the audit entry's actor, the idle clock at login.
        from clinic import audit, middleware  # noqa: F401
