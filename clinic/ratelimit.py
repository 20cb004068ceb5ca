"""A small cache-based rate limit for public endpoints (the patient's signed
links under /r/, anything a token alone unlocks).

    @login_not_required
    @rate_limit("signed-link", limit=20, period=60)
    def confirm(request, token): ...

Counts are kept in the default cache (Redis in production, so every worker
shares them) in fixed windows per client address. Over the limit the view is
not called: the client gets the friendly 429 page with no data. A cache that
is down never breaks the page: the limit is skipped and a warning logged.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    if getattr(settings, "RATELIMIT_USE_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            # The right-most entry is the one our own proxy appended.
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def hit(*, scope: str, key: str, limit: int, period: int) -> bool:
    """Count one request for (scope, key); True while within `limit` per `period` seconds."""
    window = int(time.time() // period)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # no addresses in cache keys
    cache_key = f"ratelimit:{scope}:{digest}:{window}"
    try:
        if cache.add(cache_key, 1, timeout=period + 1):
            return True
        return cache.incr(cache_key) <= limit
    except ValueError:  # the key expired between add and incr
        cache.set(cache_key, 1, timeout=period + 1)
        return True
    except Exception:
        logger.warning("rate limit %s: cache unavailable, request allowed", scope)
        return True


# The limits of the views a token alone opens, per client address and minute.
# A patient's visit to their link is a handful of requests; a calendar app
# polls every few minutes; a script guessing tokens is stopped within a minute.
SIGNED_LINK_LIMIT = 20  # /r/… (every link page together)
CALENDAR_FEED_LIMIT = 20  # calendar.ics
TOKEN_LIMIT = 10  # POST /api/v1/auth/token/ (django-axes also locks the account)
TOO_MANY = "Too many requests. Please wait a minute and try again."


def too_many_requests(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": TOO_MANY}, status=429)
    else:
        response = render(request, "429.html", status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limit(scope: str, *, limit: int, period: int = 60, key: Callable[[HttpRequest], str] | None = None):
    """Decorator: at most `limit` requests per `period` seconds per client
    address (or per `key(request)`), then 429."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            who = key(request) if key else client_address(request)
            if not hit(scope=scope, key=who, limit=limit, period=period):
                # Seconds until the window turns over: then the count starts again.
                return too_many_requests(request, retry_after=period - int(time.time()) % period)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
