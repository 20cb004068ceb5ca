import datetime as dt

from django import forms

from appointments.models import Room, Therapist, WaitlistEntry
from clinic.localtime import OUT_OF_RANGE, clinic_tz, date_in_range, validate_date_range


class LabelledSplitDateTimeWidget(forms.SplitDateTimeWidget):
    """A date input and a time input, each with its own visible label (one
    label cannot name two controls); screen readers also hear the field's
    label: "First session: Date". The template sits in the app's templates
    folder, where Django's form renderer looks."""

    template_name = "appointments/widgets/split_datetime.html"
    field_label = ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["field_label"] = self.field_label
        return context


class LocalDateTimeField(forms.SplitDateTimeField):
    """Date and time inputs read in the clinic's time zone."""

    widget = LabelledSplitDateTimeWidget(
        date_attrs={"type": "date"},
        time_attrs={"type": "time", "step": 300},
        date_format="%Y-%m-%d",
        time_format="%H:%M",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.widget.field_label = self.label or ""

    def compress(self, data_list):
        value = super().compress(data_list)
        if value and not date_in_range(value):  # before converting: year 1 would overflow
            raise forms.ValidationError(OUT_OF_RANGE, code="date_range")
        return value.astimezone(clinic_tz()) if value else value


class SeriesForm(forms.Form):
    start = LocalDateTimeField(label="First session", help_text="Later sessions keep this time of day.")
    therapist = forms.ModelChoiceField(
        queryset=Therapist.objects.filter(is_active=True),
        required=False,
        empty_label="Any qualified therapist",
    )


class BookForm(forms.Form):
    start = LocalDateTimeField(label="Start")
    therapist = forms.ModelChoiceField(
        queryset=Therapist.objects.filter(is_active=True), required=False, empty_label="Any"
    )
    room = forms.ModelChoiceField(
        queryset=Room.objects.filter(is_active=True), required=False, empty_label="Any free room"
    )


class SlotSearchForm(forms.Form):
    date_from = forms.DateField(
        label="From", widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_date_range]
    )
    date_to = forms.DateField(
        label="To", widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_date_range]
    )
    therapist = forms.ModelChoiceField(
        queryset=Therapist.objects.filter(is_active=True), required=False, empty_label="Any"
    )
    after = forms.TimeField(
        label="Starting after", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    before = forms.TimeField(
        label="Ending by", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )

    def clean(self):
        data = super().clean()
        if data.get("after") and data.get("before") and data["after"] >= data["before"]:
            self.add_error("before", "“Ending by” must be later than “Starting after”.")
        if data.get("date_from") and data.get("date_to"):
            if data["date_to"] < data["date_from"]:
                self.add_error("date_to", "The end date must be on or after the start date.")
            elif data["date_to"] - data["date_from"] > dt.timedelta(days=62):
                self.add_error("date_to", "Search at most two months at a time.")
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200, label="Reason for cancelling")


class RescheduleForm(forms.Form):
    start = LocalDateTimeField(label="New start")
    therapist = forms.ModelChoiceField(
        queryset=Therapist.objects.filter(is_active=True),
        required=False,
        empty_label="Keep the same therapist",
    )


class WaitlistForm(forms.ModelForm):
    preferred_weekdays = forms.TypedMultipleChoiceField(
        choices=[(i, name) for i, name in enumerate(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Preferred days",
    )

    class Meta:
        model = WaitlistEntry
        fields = [
            "plan",
            "preferred_weekdays",
            "preferred_time_from",
            "preferred_time_to",
            "earliest_date",
            "latest_date",
            "notes",
        ]
        widgets = {
            "preferred_time_from": forms.TimeInput(attrs={"type": "time"}),
            "preferred_time_to": forms.TimeInput(attrs={"type": "time"}),
            "earliest_date": forms.DateInput(attrs={"type": "date"}),
            "latest_date": forms.DateInput(attrs={"type": "date"}),
        }


class PatientRescheduleForm(forms.Form):
    """The patient's choice among the free times the page lists (the link
    page of the email); the service checks every rule again."""

    slot = forms.ChoiceField(
        label="New time",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose one of the times.",
            "invalid_choice": "That time is no longer free; please choose another.",
        },
    )

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = choices
