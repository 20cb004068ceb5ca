from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "notes"

    def ready(self) -> None:
        # Treatments sits below notes: the plan page asks notes, through its
        # registry, whether the HDSS trend suggests maintenance (R21).
        from notes.selectors import maintenance_notices
        from treatments import hooks

        hooks.register_plan_notice(maintenance_notices)
