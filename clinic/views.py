import logging

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST
from kombu import Connection
from redis.backoff import NoBackoff
from redis.retry import Retry

from clinic import metrics as clinic_metrics
from clinic.dashboard import dashboard_for
from clinic.roles import role_of

logger = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("healthz: database unreachable", exc_info=True)
        return False
    return True


# The whole broker check stays well inside a second: a Redis that accepts
# the connection but never answers (paused, swapping) must not stall the
# load balancer's probe.
BROKER_CHECK_TIMEOUT = 0.4


def broker_ok() -> bool:
    """Ask the broker for a PING with short, bounded timeouts (never hang)."""
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://", "unix://")):
        try:
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=BROKER_CHECK_TIMEOUT,
                socket_timeout=BROKER_CHECK_TIMEOUT,
                retry=Retry(NoBackoff(), 0),  # redis-py retries 3 times by default
            )
            try:
                return bool(client.ping())
            finally:
                client.close()
        except Exception:
            logger.warning("healthz: broker unreachable")
            return False
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=1,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception:
        logger.warning("healthz: broker unreachable")
        return False
    return True


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    db = database_ok()
    body = {
        "status": "ok" if db else "error",
        "database": "ok" if db else "down",
        "broker": "ok" if broker_ok() else "down",
    }
    return JsonResponse(body, status=200 if db else 503)


@login_not_required
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for a scraper holding METRICS_TOKEN (no session)."""
    if not settings.METRICS_TOKEN:
        return HttpResponse("Metrics are off: set METRICS_TOKEN.\n", status=404, content_type="text/plain")
    if not clinic_metrics.token_ok(request.headers.get("Authorization", ""), settings.METRICS_TOKEN):
        return HttpResponse("A bearer token is required.\n", status=403, content_type="text/plain")
    return HttpResponse(clinic_metrics.exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The role's dashboard: what needs doing today, at a glance."""
    return render(request, "home.html", {"role": role_of(request.user), **dashboard_for(request.user)})


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


@login_not_required
def error_403(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "You do not have permission to do this."}, status=403)
    return render(request, "403.html", status=403)


@login_not_required
def error_404(request: HttpRequest, exception=None) -> HttpResponse:
    # An API client gets the API's error shape, never an HTML page.
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


@login_not_required
def error_500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    # No request context: the database may be what failed.
    body = loader.get_template("500.html").render({"CLINIC_NAME": settings.CLINIC_NAME})
    return HttpResponseServerError(body)


@never_cache
@require_POST
def keepalive(request: HttpRequest) -> HttpResponse:
    """The idle-logout warning's "stay signed in": the request itself counts
    as activity (clinic.middleware.IdleTimeoutMiddleware)."""
    return HttpResponse(status=204)


FAVICON = settings.BASE_DIR / "static" / "img" / "favicon.ico"


@login_not_required
@require_GET
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on every site whatever the page links."""
    return HttpResponse(FAVICON.read_bytes(), content_type="image/x-icon")
