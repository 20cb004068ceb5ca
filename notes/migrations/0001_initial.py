"""Adopt the session-note tables created by treatments/0004 (state only:
same tables, same rows), and move their content types so audit-log entries
and permissions keep pointing at them."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ("sessionnote", "addendum", "adverseevent")


def move_content_types(apps, schema_editor, *, source="treatments", target="notes"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=target, model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def restore_content_types(apps, schema_editor):
    move_content_types(apps, schema_editor, source="notes", target="treatments")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('appointments', '0003_reminder'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('patients', '0001_initial'),
        ('treatments', '0006_notes_moved_to_notes_app'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SessionNote',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('status', models.CharField(choices=[('draft', 'Draft'), ('signed', 'Signed')], default='draft', max_length=8)),
                        ('current_ma', models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True, verbose_name='current (mA)')),
                        ('treatment_minutes', models.DecimalField(blank=True, decimal_places=1, max_digits=6, null=True, verbose_name='treatment time (min)')),
                        ('dose_ma_min', models.DecimalField(blank=True, decimal_places=2, max_digits=7, null=True, verbose_name='dose (mA·min)')),
                        ('polarity', models.CharField(blank=True, choices=[('negative', 'Negative (cathode)'), ('positive', 'Positive (anode)')], max_length=10)),
                        ('electrode_type', models.CharField(blank=True, choices=[('buffered', 'Buffered electrode'), ('wearable_patch', 'Wearable low-current patch')], max_length=20)),
                        ('electrode_lot', models.CharField(blank=True, max_length=60)),
                        ('medication_lot', models.CharField(blank=True, max_length=60)),
                        ('medication_expiry', models.DateField(blank=True, null=True)),
                        ('medication_volume_ml', models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True, verbose_name='medication volume (mL)')),
                        ('frequency_mhz', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='frequency (MHz)')),
                        ('intensity_w_cm2', models.DecimalField(blank=True, decimal_places=2, max_digits=4, null=True, verbose_name='intensity (W/cm²)')),
                        ('duty_cycle_pct', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='duty cycle (%)')),
                        ('treatment_area_cm2', models.DecimalField(blank=True, decimal_places=1, max_digits=6, null=True, verbose_name='area (cm²)')),
                        ('coupling_medium', models.CharField(blank=True, max_length=100)),
                        ('tray', models.CharField(blank=True, choices=[('hands', 'Hands'), ('feet', 'Feet')], max_length=10)),
                        ('polarity_switched', models.BooleanField(default=False, verbose_name='polarity switched half-way')),
                        ('water_additive', models.CharField(blank=True, help_text='e.g. a teaspoon of baking soda', max_length=100)),
                        ('barrier_applied', models.BooleanField(default=False, verbose_name='vaseline barrier applied')),
                        ('skin_before', models.CharField(blank=True, choices=[('normal', 'Normal'), ('erythema', 'Erythema (redness)'), ('blister', 'Blister'), ('burn', 'Burn'), ('other', 'Other')], max_length=10)),
                        ('skin_after', models.CharField(blank=True, choices=[('normal', 'Normal'), ('erythema', 'Erythema (redness)'), ('blister', 'Blister'), ('burn', 'Burn'), ('other', 'Other')], max_length=10)),
                        ('skin_notes', models.TextField(blank=True)),
                        ('pain_before', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(10)])),
                        ('pain_after', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(10)])),
                        ('subjective', models.TextField(blank=True)),
                        ('objective', models.TextField(blank=True)),
                        ('assessment', models.TextField(blank=True)),
                        ('care_plan', models.TextField(blank=True, verbose_name='plan')),
                        ('home_instructions', models.TextField(blank=True, help_text='e.g. when to remove a wearable patch')),
                        ('timed_minutes', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('cpt_code', models.CharField(blank=True, max_length=5)),
                        ('billing_units', models.PositiveSmallIntegerField(default=0)),
                        ('confirmed_out_of_range', models.BooleanField(default=False)),
                        ('screening_override_reason', models.TextField(blank=True)),
                        ('signed_at', models.DateTimeField(blank=True, null=True)),
                        ('appointment', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='note', to='appointments.appointment')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('signed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'treatments_sessionnote',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='AdverseEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('blister', 'Blister'), ('burn', 'Burn'), ('reaction', 'Reported reaction'), ('other', 'Other skin finding')], max_length=10)),
                        ('description', models.TextField()),
                        ('action_taken', models.TextField()),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='adverse_events', to='patients.patient')),
                        ('plan', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='adverse_events', to='treatments.treatmentplan')),
                        ('reported_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('note', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='adverse_events', to='notes.sessionnote')),
                    ],
                    options={
                        'db_table': 'treatments_adverseevent',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='Addendum',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('text', models.TextField()),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('note', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='addenda', to='notes.sessionnote')),
                    ],
                    options={
                        'verbose_name_plural': 'addenda',
                        'db_table': 'treatments_addendum',
                        'ordering': ['created_at', 'id'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='sessionnote',
                    constraint=models.CheckConstraint(condition=models.Q(('status', 'draft'), models.Q(('signed_by__isnull', False), ('signed_at__isnull', False)), _connector='OR'), name='note_signed_has_signer'),
                ),
                migrations.AddConstraint(
                    model_name='sessionnote',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('pain_before__isnull', True), ('pain_before__lte', 10), _connector='OR'), models.Q(('pain_after__isnull', True), ('pain_after__lte', 10), _connector='OR')), name='note_pain_0_10'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
