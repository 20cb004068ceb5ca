"""The home program through its services and pages: the therapist starts it,
the patient logs sessions from the link, a skin reaction pauses it until a
therapist reviews it (R16), the link rotates and closes, recalls go out once
per episode (R15 extended), and the front desk never sees more than
"home program active / needs review"."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from appointments import reminders
from appointments.models import Reminder
from appointments.tests.reminders_support import assert_no_clinical_words, parse
from clinic.rule_codes import codes_of
from clinic.tests.factories import UserFactory
from homecare import selectors, services, tokens
from homecare.models import HomeProgram, HomeSession
from homecare.tests.conftest import PROGRAM
from treatments.models import TreatmentPlan
from treatments.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db
Kind = Reminder.Kind


def log_form(day: dt.date, **changes) -> dict:
    values = {
        "date": day.isoformat(),
        "site": "hands",
        "minutes": "20",
        "current_ma": "14",
        "skin_reaction": "none",
        "hdss": "3",
        "comments": "",
    }
    values.update(changes)
    return values


def sent_messages():
    return [parse(m.message().as_bytes()) for m in mail.outbox]


def home_link_from_outbox(settings) -> str:
    reminders.reminders_sweep()
    (message,) = [m for m in sent_messages() if "home program link" in str(m["subject"])]
    text = message.get_body(preferencelist=("plain",)).get_content()
    (link,) = set(re.findall(re.escape(settings.SITE_URL) + r"/r/home/[^\s\"'<>]+", text))
    return link.removeprefix(settings.SITE_URL)


# -- starting the program ------------------------------------------------------------
def test_starting_emails_the_patient_a_link_that_opens_their_program(program, settings, client):
    path = home_link_from_outbox(settings)
    assert_no_clinical_words(sent_messages())
    page = client.get(path)
    assert page.status_code == 200
    body = page.content.decode()
    assert "20 minutes at 14 mA" in body and "3 sessions a week" in body
    assert page["Cache-Control"].startswith("max-age=0") or "no-store" in page["Cache-Control"]


def test_settings_outside_the_clinics_tap_water_limits_are_refused(tap_plan, therapist, start_of_day):
    with pytest.raises(ValidationError) as info:
        services.program_start(plan=tap_plan, user=therapist, values={**PROGRAM, "sessions_per_week": 6})
    assert codes_of(info.value) == ["R19.tap_week"]
    child = PlanFactory(tap_water=True, patient__date_of_birth=start_of_day.date().replace(year=2016))
    with pytest.raises(ValidationError) as info:
        services.program_start(plan=child, user=therapist, values={**PROGRAM, "current_ma": Decimal("16")})
    assert codes_of(info.value) == ["R19.minor_current"]
    assert not HomeProgram.objects.exists()


def test_only_a_therapist_starts_it_and_only_for_an_active_tap_water_plan(
    tap_plan, therapist, start_of_day, clinic
):
    admin = UserFactory(role="clinic_admin")
    with pytest.raises(PermissionDenied):
        services.program_start(plan=tap_plan, user=admin, values=PROGRAM)
    with pytest.raises(ValidationError) as info:
        services.program_start(plan=PlanFactory(), user=therapist, values=PROGRAM)
    assert codes_of(info.value) == ["R21.modality"]


def test_the_program_page_keeps_input_and_shows_the_refusal(tap_plan, therapist, start_of_day, client):
    client.force_login(therapist)
    url = reverse("homecare:program", kwargs={"pk": tap_plan.pk})
    response = client.post(url, {**PROGRAM, "sessions_per_week": "7", "device": "Unit X"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "at most 5" in body and 'value="Unit X"' in body
    response = client.post(url, PROGRAM)
    assert response.status_code == 302
    assert HomeProgram.objects.get(plan=tap_plan).sessions_per_week == 3


# -- the patient logs ----------------------------------------------------------------
def test_a_logged_session_shows_in_the_patients_log_and_the_therapists(program, settings, client, therapist):
    path = home_link_from_outbox(settings)
    today = program.started_at.date()
    response = client.post(path, log_form(today, comments="Palms dry all evening"))
    assert response.status_code == 302
    page = client.get(path).content.decode()
    assert "Saved: your session of" in page and "Nothing logged yet" not in page
    session = HomeSession.objects.get()
    assert (session.minutes, session.current_ma, session.hdss) == (20, Decimal("14.0"), 3)
    assert LogEntry.objects.get_for_object(session).exists()  # what the patient writes is audited
    client.force_login(therapist)
    staff_page = client.get(reverse("homecare:program", kwargs={"pk": program.plan_id})).content.decode()
    assert "Palms dry all evening" in staff_page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"date": "2099-01-01"}, "date", "still ahead"),
        ({"current_ma": "31"}, "current_ma", "up to 25 mA"),
        ({"minutes": "0"}, "minutes", ""),
        ({"skin_reaction": ""}, "skin_reaction", ""),
    ],
)
def test_a_refused_log_keeps_the_input_and_says_why(program, settings, client, changes, field, message):
    path = home_link_from_outbox(settings)
    response = client.post(path, log_form(program.started_at.date(), comments="kept text", **changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    body = response.content.decode()
    assert message in body and "kept text" in body
    assert not HomeSession.objects.exists()


def test_one_session_a_day_r19(program):
    today = program.started_at.date()
    values = {**log_values(today)}
    services.home_session_log(program=program, values=values)
    with pytest.raises(ValidationError) as info:
        services.home_session_log(program=program, values=values)
    assert codes_of(info.value) == ["R19.tap_day"]


def log_values(day: dt.date, **changes) -> dict:
    values = {
        "date": day,
        "site": "hands",
        "minutes": 20,
        "current_ma": Decimal("14"),
        "skin_reaction": "none",
        "hdss": 3,
    }
    values.update(changes)
    return values


def test_a_blister_pauses_the_program_and_holds_the_plan_until_a_therapist_reviews_it(
    program, settings, client, therapist, time_machine, start_of_day
):
    path = home_link_from_outbox(settings)
    today = program.started_at.date()
    client.post(path, log_form(today, skin_reaction="blister"))
    program.refresh_from_db()
    assert program.status == HomeProgram.Status.PAUSED
    assert program.plan.status == TreatmentPlan.Status.ON_HOLD
    page = client.get(path).content.decode()
    assert "paused until the clinic has looked at your last session" in page
    assert "Save this session" not in page  # no form while paused
    time_machine.move_to(start_of_day + dt.timedelta(days=1), tick=False)
    with pytest.raises(ValidationError) as info:
        services.home_session_log(program=program, values=log_values(today + dt.timedelta(days=1)))
    assert codes_of(info.value) == ["R16.home_paused"]
    assert [a.reason for a in selectors.needing_attention(now=start_of_day)][0].startswith(
        "Paused: Home session"
    )
    client.force_login(therapist)
    client.post(reverse("homecare:review", kwargs={"pk": program.plan_id}))
    program.refresh_from_db()
    assert program.status == HomeProgram.Status.ACTIVE
    assert program.plan.status == TreatmentPlan.Status.ACTIVE
    assert HomeSession.objects.get().reviewed_by == therapist
    services.home_session_log(program=program, values=log_values(today + dt.timedelta(days=1)))


def test_rotating_the_link_closes_the_old_one_at_once(program, settings, client, therapist):
    old = home_link_from_outbox(settings)
    mail.outbox.clear()
    services.program_rotate_link(program=program, user=therapist)
    new = home_link_from_outbox(settings)
    assert new != old
    assert client.get(old).status_code == 403
    assert client.get(new).status_code == 200
    services.program_revoke_link(program=program, user=therapist)
    closed = client.get(new)
    assert closed.status_code == 403 and "This link is closed" in closed.content.decode()
    assert client.get("/r/home/not-a-token/").status_code == 400


def test_the_link_is_rate_limited(program, settings, client):
    path = home_link_from_outbox(settings)
    statuses = [client.get(path).status_code for _ in range(35)]
    assert statuses[0] == 200 and statuses[-1] == 429


# -- what each role sees ---------------------------------------------------------------
def test_the_front_desk_sees_only_that_a_home_program_is_active_or_needs_review(
    program, client, front_desk_user
):
    services.home_session_log(
        program=program, values=log_values(program.started_at.date(), comments="MARKER-HOME-TEXT")
    )
    client.force_login(front_desk_user)
    chart = client.get(reverse("patients:detail", kwargs={"pk": program.plan.patient_id})).content.decode()
    plan_page = client.get(reverse("treatments:detail", kwargs={"pk": program.plan_id})).content.decode()
    for body in (chart, plan_page):
        assert "Home program active" in body
        for secret in ("MARKER-HOME-TEXT", "Hidrex home unit", "14 mA", "HDSS"):
            assert secret not in body
    assert client.get(reverse("homecare:program", kwargs={"pk": program.plan_id})).status_code == 403


def test_progress_shows_adherence_and_clinic_and_home_hdss_together(program, therapist, client):
    today = program.started_at.date()
    services.home_session_log(program=program, values=log_values(today, hdss=3))
    client.force_login(therapist)
    response = client.get(reverse("notes:progress", kwargs={"pk": program.plan_id}))
    (section,) = [s["context"] for s in response.context["sections"] if s["key"] == "home"]
    assert section["chart"]["home"] == [3]
    assert section["weeks"][0].logged == 1 and section["weeks"][0].planned == 3
    assert 'id="hdss-chart"' in response.content.decode()


# -- recalls ---------------------------------------------------------------------------
def test_fourteen_silent_days_send_one_recall_per_episode(program, time_machine, start_of_day, settings):
    reminders.reminders_sweep()  # the link email
    mail.outbox.clear()
    time_machine.move_to(start_of_day + dt.timedelta(days=13), tick=False)
    assert services.plan_home_recalls() == 0
    time_machine.move_to(start_of_day + dt.timedelta(days=14, hours=2), tick=False)
    for _ in range(2):  # beat runs both; twice changes nothing
        services.plan_home_recalls()
        reminders.reminders_sweep()
    assert [m.to for m in mail.outbox] == [[program.plan.patient.email]]
    assert "We have not heard from you" in mail.outbox[0].subject
    assert_no_clinical_words(sent_messages())
    # The patient logs again: a new silence is a new episode, a new recall.
    services.home_session_log(program=program, values=log_values(local_day(time_machine)))
    time_machine.move_to(start_of_day + dt.timedelta(days=29, hours=2), tick=False)
    services.plan_home_recalls()
    reminders.reminders_sweep()
    assert len(mail.outbox) == 2


def local_day(time_machine) -> dt.date:
    from django.utils import timezone

    from clinic.localtime import local_date

    return local_date(timezone.now())


def test_no_recall_email_for_a_patient_who_opted_out(program, time_machine, start_of_day):
    reminders.reminders_sweep()
    mail.outbox.clear()
    patient = program.plan.patient
    patient.reminder_opt_in = False
    patient.save()
    time_machine.move_to(start_of_day + dt.timedelta(days=15), tick=False)
    services.plan_home_recalls()
    reminders.reminders_sweep()
    assert mail.outbox == []
    assert Reminder.objects.get(kind=Kind.HOME_SILENCE_RECALL).status == Reminder.Status.SKIPPED


def test_two_high_hdss_in_a_row_send_one_recall(program, time_machine, start_of_day):
    reminders.reminders_sweep()
    mail.outbox.clear()
    for offset, score in ((0, 3), (2, 2), (4, 3), (6, 4), (8, 4)):
        time_machine.move_to(start_of_day + dt.timedelta(days=offset), tick=False)
        services.home_session_log(program=program, values=log_values(local_day(time_machine), hdss=score))
        services.plan_home_recalls()
        reminders.reminders_sweep()
    recalls = Reminder.objects.filter(kind=Kind.HOME_HDSS_RECALL)
    assert (
        recalls.count() == 1
        and recalls.get().slot_start.date() == (start_of_day + dt.timedelta(days=6)).date()
    )
    assert len(mail.outbox) == 1 and mail.outbox[0].subject.startswith("Time for a check-up at ")


def test_the_hdss_episode_starts_at_the_second_high_score_in_a_row():
    d = dt.date(2027, 1, 1)
    days = [d + dt.timedelta(days=i) for i in range(5)]
    assert selectors.hdss_episode([(days[0], 3)]) is None
    assert selectors.hdss_episode([(days[0], 3), (days[1], 4)]) == days[1]
    assert selectors.hdss_episode([(days[0], 3), (days[1], 4), (days[2], 2)]) is None
    assert selectors.hdss_episode([(days[0], 4), (days[1], 1), (days[2], 3), (days[3], 3)]) == days[3]


def test_the_dashboard_lists_silent_home_patients(program, therapist, client, time_machine, start_of_day):
    time_machine.move_to(start_of_day + dt.timedelta(days=15), tick=False)
    client.force_login(therapist)
    body = client.get("/").content.decode()
    assert "Home program: to follow up" in body and "Nothing logged since" in body
    assert program.plan.patient.full_name in body


def test_tokens_refuse_tampering(program):
    token = tokens.home_token(program)
    with pytest.raises(tokens.LinkInvalid):
        tokens.read_home(token[:-2] + "xx")
    assert tokens.read_home(token) == program
