"""Session notes, addenda and adverse events moved to the `notes` app.

State only: the tables (treatments_sessionnote, treatments_addendum,
treatments_adverseevent) and their rows stay; notes/0001 adopts them."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('treatments', '0005_plan_session_minutes_max'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='adverseevent',
                    name='note',
                ),
                migrations.RemoveField(
                    model_name='adverseevent',
                    name='patient',
                ),
                migrations.RemoveField(
                    model_name='adverseevent',
                    name='plan',
                ),
                migrations.RemoveField(
                    model_name='adverseevent',
                    name='reported_by',
                ),
                migrations.RemoveField(
                    model_name='sessionnote',
                    name='appointment',
                ),
                migrations.RemoveField(
                    model_name='sessionnote',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='sessionnote',
                    name='signed_by',
                ),
                migrations.DeleteModel(
                    name='Addendum',
                ),
                migrations.DeleteModel(
                    name='AdverseEvent',
                ),
                migrations.DeleteModel(
                    name='SessionNote',
                ),
            ],
            database_operations=[],
        ),
    ]
