from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clinic import backups


class Command(BaseCommand):
    help = "Back up the database (pg_dump custom format, or SQLite's online backup)."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="File to write (made whole or not at all).")

    def handle(self, *args, output: str, **options):
        try:
            path = backups.backup(output=Path(output))
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Backed up the {backups.vendor()} database to {path} ({path.stat().st_size:,} bytes)."
        )
