"""Notes moved from `treatments` to `notes` by state only (notes/0001,
treatments/0006): a database migrated before the move goes forward with
every note, addendum and adverse event, and their audit history, intact."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from clinic.tests.world import build_world
from notes.models import Addendum, AdverseEvent, SessionNote

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

# The last migrations of each app at the commit before the move.
BEFORE_MOVE = [
    ("notes", None),
    ("treatments", "0005_plan_session_minutes_max"),
    ("appointments", "0003_reminder"),
]
MOVED = ("sessionnote", "addendum", "adverseevent")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_a_database_from_before_the_move_keeps_every_note(time_machine):
    world = build_world(time_machine)
    AdverseEvent.objects.create(
        note=world.note,
        plan=world.plan,
        patient=world.patient,
        kind=AdverseEvent.Kind.BLISTER,
        description="Small blister under the cathode",
        action_taken="Dressing; next session postponed",
        reported_by=world.users["therapist"],
    )
    Addendum.objects.create(note=world.note, text="Second addendum", author=world.users["therapist"])
    expected = {
        "sessionnote": SessionNote.objects.count(),
        "addendum": Addendum.objects.count(),
        "adverseevent": AdverseEvent.objects.count(),
    }
    assert expected == {"sessionnote": 1, "addendum": 2, "adverseevent": 1}
    note_history = LogEntry.objects.get_for_object(world.note).count()
    assert note_history > 0

    try:
        # Back to the layout of the commit before the move: the notes models
        # are treatments' again, their content types too.
        old = _migrate(BEFORE_MOVE)
        assert {m: old.get_model("treatments", m).objects.count() for m in MOVED} == expected
        assert set(ContentType.objects.filter(model__in=MOVED).values_list("app_label", flat=True)) == {
            "treatments"
        }
        with pytest.raises(LookupError):
            old.get_model("notes", "SessionNote")
    finally:
        new = _migrate(_leaves())

    assert {m: new.get_model("notes", m).objects.count() for m in MOVED} == expected
    assert SessionNote.objects.get().addenda.count() == 2
    assert SessionNote.objects.get().adverse_events.get().description == "Small blister under the cathode"
    assert set(ContentType.objects.filter(model__in=MOVED).values_list("app_label", flat=True)) == {"notes"}
    # The audit trail still hangs off the same note.
    assert LogEntry.objects.get_for_object(SessionNote.objects.get()).count() == note_history


def test_the_tables_keep_their_names():
    tables = set(connection.introspection.table_names())
    assert {"treatments_sessionnote", "treatments_addendum", "treatments_adverseevent"} <= tables
    assert SessionNote._meta.db_table == "treatments_sessionnote"
