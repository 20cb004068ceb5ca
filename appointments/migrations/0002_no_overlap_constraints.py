"""R1 on PostgreSQL: the database itself refuses two non-cancelled
appointments of one therapist, room, device or patient whose times overlap,
whatever races the application loses. SQLite serialises writers instead
(transaction_mode IMMEDIATE) and the service re-checks inside the transaction.
"""

from django.db import migrations

RESOURCES = ("therapist", "room", "device", "patient")


def constraint_name(resource: str) -> str:
    return f"appointment_no_overlap_{resource}"


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for resource in RESOURCES:
        schema_editor.execute(
            f"ALTER TABLE appointments_appointment ADD CONSTRAINT {constraint_name(resource)} "
            f"EXCLUDE USING gist ({resource}_id WITH =, tstzrange(start, \"end\", '[)') WITH &&) "
            f"WHERE (status <> 'cancelled' AND {resource}_id IS NOT NULL)"
        )


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for resource in RESOURCES:
        schema_editor.execute(
            f"ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS {constraint_name(resource)}"
        )


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]

    operations = [migrations.RunPython(add_constraints, drop_constraints)]
