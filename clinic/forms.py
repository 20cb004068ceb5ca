from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """Django's login form; crispy renders it with visible labels."""


def add_service_errors(form, error) -> None:
    """Attach a service's ValidationError to the form: field errors where the
    form has that field, the rest as non-field errors. The input stays."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
