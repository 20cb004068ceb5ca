from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clinic import backups


class Command(BaseCommand):
    help = "Replace the database with a backup made by `manage.py backup`."

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True, help="A file made by `manage.py backup`.")
        parser.add_argument(
            "--no-input", action="store_false", dest="interactive", help="Do not ask for confirmation."
        )

    def handle(self, *args, input: str, interactive: bool, **options):
        source = Path(input)
        if not source.is_file():
            raise CommandError(f"No backup at {source}.")
        if interactive:
            answer = input_prompt(
                f"This replaces every record in the {backups.vendor()} database with {source}. Type 'yes': "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled; nothing was changed.")
        try:
            backups.restore(source=source)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restored the {backups.vendor()} database from {source}.")


def input_prompt(question: str) -> str:
    return input(question)
