from django.apps import AppConfig


class SuppliesConfig(AppConfig):
    name = "supplies"

    def ready(self) -> None:
        # Notes cannot import supplies (apps depend one way): stock plugs into
        # the note services' registry, and the plan page gets its economics.
        from notes import hooks
        from supplies.note_stock import NoteStock

        hooks.register_stock(NoteStock())
