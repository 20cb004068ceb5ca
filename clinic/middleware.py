import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a login; the API authenticates for itself (session or
    token) and answers 401/403 instead of redirecting to the login page."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class IdleTimeoutMiddleware:
    """Log a session out after settings.IDLE_TIMEOUT_MINUTES without a
    request (HIPAA automatic logoff). The page warns a few minutes before
    (static/js/phoresis.js); its "stay signed in" button calls `keepalive`.

    The last-activity time is written at most once a minute so a busy page
    does not save the session on every request. Token-authenticated API
    calls carry no session and are not affected."""

    KEY = "last_activity"
    WRITE_EVERY_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if SESSION_KEY in request.session:
            now = int(time.time())
            last = request.session.get(self.KEY)
            timeout = settings.IDLE_TIMEOUT_MINUTES * 60
            if last is not None and now - last > timeout:
                logout(request)
                messages.info(
                    request,
                    f"You were logged out after {settings.IDLE_TIMEOUT_MINUTES} minutes without activity.",
                )
            elif last is None or now - last >= self.WRITE_EVERY_SECONDS:
                request.session[self.KEY] = now
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="clinic.middleware.idle_start")
def _start_idle_clock(sender, request, user, **kwargs) -> None:
    # Logging in is activity: the first page after it need not save the session again.
    if request is not None and hasattr(request, "session"):
        request.session[IdleTimeoutMiddleware.KEY] = int(time.time())


# Browser features no page of ours uses: a page (or a script injected into
# one) cannot ask for them.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), "
    "fullscreen=(self), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "midi=(), payment=(), picture-in-picture=(), publickey-credentials-get=(), "
    "screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()"
)


class PrivateResponseMiddleware:
    """Every answer Django renders is private: `Cache-Control: no-store` (and
    `Pragma: no-cache` for old proxies), so a shared front-desk browser or a
    proxy keeps no health data. An authenticated response gets it whatever
    the view said; a public one (the login page, /healthz, the favicon) keeps
    a Cache-Control its view chose. Static files never reach this middleware
    (WhiteNoise answers them first, with their long cache).

    Token-authenticated API calls are seen as authenticated too: DRF sets
    the user on the underlying request when it authenticates."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        authenticated = bool(user is not None and user.is_authenticated)
        if authenticated or not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store, max-age=0, private"
        if "no-store" in response["Cache-Control"]:
            response["Pragma"] = "no-cache"
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
