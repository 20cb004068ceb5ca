"""Phoresis settings, read from the environment (see .env.example).

Production differs from development only by environment variables. Secrets
have no default outside DEBUG.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development only: refused above when DEBUG is off.
    SECRET_KEY = "django-insecure-development-only-key-not-for-production-use"  # nosec B105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

CLINIC_NAME = env("CLINIC_NAME", default="Phoresis Demo Clinic")
CLINIC_ADDRESS = env("CLINIC_ADDRESS", default="100 Example Street, Springfield")
CLINIC_PHONE = env("CLINIC_PHONE", default="+1 555 0100")
CLINIC_TIME_ZONE = env("CLINIC_TIME_ZONE", default="America/New_York")
# The clinic's real, read mailbox (invitations' ORGANIZER and Reply-To); empty:
# the sender's address, and no Reply-To.
CLINIC_EMAIL = env("CLINIC_EMAIL", default="")

INSTALLED_APPS = [
    # Django
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    # third-party
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "phonenumber_field",
    "auditlog",
    "axes",
    "csp",
    # ours
    "clinic",
    "patients",
    "treatments",
    "appointments",
    "notes",
    "supplies",
    "homecare",
]

MIDDLEWARE = [
    # First: every log line of the request, and its tasks, carry its id.
    "clinic.requestid.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, so static files keep their long cache; everything else is no-store.
    "clinic.middleware.PrivateResponseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "clinic.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: an idle session ends with a message on the login page.
    "clinic.middleware.IdleTimeoutMiddleware",
    # Audit entries get their actor (session or, once DRF has authenticated, token).
    "clinic.audit.AuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
        },
    },
    # Hot partials only (clinic/jinja.py): pages are Django templates.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "clinic.jinja.environment", "autoescape": True},
    },
]

# Database: PostgreSQL in production and CI; an SQLite file under var/ is the
# embedded default.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'phoresis.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # Writers take the lock at BEGIN, so a booking's check-then-insert is
        # serialised instead of failing with "database is locked" at COMMIT.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": ("PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"),
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes first: it refuses a locked-out username before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend whose session user brings their role groups (one query, not two).
    "clinic.auth.SessionUserBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True
TIME_ZONE = CLINIC_TIME_ZONE  # display zone; the database stores UTC
# "Mon 7 Dec 2026, 09:00" on every page (clinic/formats/en/formats.py).
FORMAT_MODULE_PATH = ["clinic.formats"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
# Off DEBUG, hashed names from `collectstatic` (clinic/startup.py refuses to
# serve without them). Pre-compressing (brotli + gzip) costs minutes of CPU on
# a small machine; STATIC_COMPRESS=false keeps the hashed names without it.
STATIC_COMPRESS = env.bool("STATIC_COMPRESS", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_COMPRESS
            else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: SMTP when EMAIL_HOST is set, otherwise files under var/mail/.
EMAIL_HOST = env("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Phoresis <no-reply@phoresis.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))

# Celery: Redis when REDIS_URL / CELERY_BROKER_URL is set; otherwise kombu's
# filesystem transport under var/, so `make run` needs no server.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_DIR = Path(env("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=f"file://{CELERY_BROKER_DIR / 'results'}")
else:
    # Bounded timeouts: a broker that is down must never hang a booking.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
        "max_retries": 1,
        "visibility_timeout": 3600,
    }
    CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat touches this file as it ticks (at least every 30 s); its healthcheck
# (python -m clinic.healthcheck beat) reads the file's age.
CELERY_BEAT_SCHEDULER = "clinic.celery:HeartbeatScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = 30
CELERY_BEAT_HEARTBEAT_FILE = env("CELERY_BEAT_HEARTBEAT_FILE", default=str(VAR_DIR / "beat-heartbeat"))
# The reminder outbox (appointments/reminders/): beat runs the sweep every
# minute; it sends due rows. No ETA/countdown tasks: Redis would re-deliver
# them after the visibility timeout. `expires` drops sweeps queued while no
# worker ran (the next one does the same work).
REMINDER_SWEEP_SECONDS = env.float("REMINDER_SWEEP_SECONDS", default=60.0)
# The home program (homecare): a patient whose home log is silent this many
# days gets one recall (R15 extended) and shows on the therapist's dashboard.
HOME_SILENCE_DAYS = env.int("HOME_SILENCE_DAYS", default=14)
# The sweep has a queue of its own: per-message send tasks (nudges) queued by
# the thousand cannot hold it back until it expires. A worker consumes every
# queue listed here unless started with -Q.
CELERY_TASK_DEFAULT_QUEUE = "celery"
REMINDER_SWEEP_QUEUE = "sweep"
CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(REMINDER_SWEEP_QUEUE))
CELERY_TASK_ROUTES = {
    "appointments.tasks.reminders_sweep": {"queue": REMINDER_SWEEP_QUEUE},
    "appointments.tasks.maintenance_recalls_plan": {"queue": REMINDER_SWEEP_QUEUE},
    "homecare.tasks.home_recalls_plan": {"queue": REMINDER_SWEEP_QUEUE},
}
# Publishing from a web request (the nudge after a booking): short socket
# timeouts of its own, so a Redis that accepts connections but never answers
# costs a booking well under a second (workers keep the options above).
REMINDER_NUDGE_SOCKET_TIMEOUT = env.float("REMINDER_NUDGE_SOCKET_TIMEOUT", default=0.3)
REMINDER_NUDGE_WAIT_SECONDS = env.float("REMINDER_NUDGE_WAIT_SECONDS", default=0.8)
CELERY_BEAT_SCHEDULE: dict = {
    "reminders-sweep": {
        "task": "appointments.tasks.reminders_sweep",
        "schedule": REMINDER_SWEEP_SECONDS,
        "options": {"expires": max(REMINDER_SWEEP_SECONDS - 5, 1)},
    },
    "maintenance-recalls": {
        "task": "appointments.tasks.maintenance_recalls_plan",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "home-recalls": {
        "task": "homecare.tasks.home_recalls_plan",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
}
# A claimed row whose worker vanished is taken back after this lease; a live
# worker renews its claim between messages (sending.py), so the lease only
# has to outlast one message, not a batch.
REMINDER_CLAIM_LEASE_SECONDS = env.int("REMINDER_CLAIM_LEASE_SECONDS", default=30)
# How long the sender waits for each answer of the mail server once connected
# (EMAIL_TIMEOUT bounds the connect). A relay that is merely slow delivers;
# RFC 5321 §4.5.3.2 allows servers minutes. A handed-over row is called
# "unconfirmed" only after the lease plus this wait.
REMINDER_SMTP_REPLY_TIMEOUT = env.int("REMINDER_SMTP_REPLY_TIMEOUT", default=90)
# Extra sweeps a sweep starts when more than a batch is due, so every worker
# helps with a large backlog (each claims its own rows).
REMINDER_SWEEP_HELPERS = env.int("REMINDER_SWEEP_HELPERS", default=2)
# Delivery attempts before a row shows as failed; retries back off (1, 2, 4 … min).
REMINDER_MAX_ATTEMPTS = env.int("REMINDER_MAX_ATTEMPTS", default=5)
REMINDER_RETRY_BASE_SECONDS = env.int("REMINDER_RETRY_BASE_SECONDS", default=60)
REMINDER_SWEEP_BATCH = env.int("REMINDER_SWEEP_BATCH", default=50)
# A change notice (confirmation, moved, cancelled) waits this long, so a move
# and its undo, or a booking and its immediate cancellation, send nothing.
REMINDER_UNDO_MINUTES = env.int("REMINDER_UNDO_MINUTES", default=3)
# A timed reminder due within this long after its visit's notice is not
# planned: the notice says it is also the reminder (one email, not two).
REMINDER_MERGE_MINUTES = env.int("REMINDER_MERGE_MINUTES", default=360)
# After commit, also publish a send task for rows due now (the sweep is the
# safety net when the broker is down). Tests turn it on where they need it.
REMINDER_NUDGE = env.bool("REMINDER_NUDGE", default=True)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: anonymous requests get 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "clinic.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Phoresis API",
    "DESCRIPTION": "Iontophoresis and phonophoresis clinic service.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from our own static files: clinics run offline, strict CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation documents its 400/401/403/404 (409 on writes, 429 where
    # rate limited) with their bodies; role-scoped fields are optional.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "clinic.schema.document_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "SkinConditionEnum": "notes.models.SkinCondition",
        "PolarityEnum": "treatments.models.Polarity",
        "MedicationChargeEnum": "treatments.models.Medication.Charge",
        "ElectrodeTypeEnum": "treatments.models.TreatmentPlan.ElectrodeType",
        "SupplyElectrodeTypeEnum": "supplies.models.SupplyItem.ElectrodeType",
    },
}

# /metrics (Prometheus) answers only `Authorization: Bearer <METRICS_TOKEN>`; off while unset.
METRICS_TOKEN = env("METRICS_TOKEN", default="")

DEMO_PASSWORD = env("DEMO_PASSWORD", default="phoresis-demo")
PHONENUMBER_DEFAULT_REGION = env("PHONENUMBER_DEFAULT_REGION", default="US")

# Database sessions; an update is one statement, not BEGIN/UPDATE/COMMIT (clinic/sessions.py).
SESSION_ENGINE = "clinic.sessions"
# Sessions end when the browser closes.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# Idle logout (clinic.middleware.IdleTimeoutMiddleware); the page warns a few
# minutes before (static/js/phoresis.js reads data attributes on <body>).
IDLE_TIMEOUT_MINUTES = env.int("IDLE_TIMEOUT_MINUTES", default=30)
IDLE_WARNING_MINUTES = env.int("IDLE_WARNING_MINUTES", default=5)

# Content-Security-Policy (django-csp 4): no inline scripts anywhere. The
# calendar page adds a nonce to style-src for FullCalendar's injected <style>
# (it reads <meta name="csp-nonce">); the API docs page relaxes style-src
# for Swagger UI (clinic.urls). Nothing else is relaxed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # NONCE is emitted only on pages that read request.csp_nonce (the calendar).
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# django-axes: five wrong passwords for a username lock it for 30 minutes
# (login page, admin login, API token, and the password that signs a note).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username"]
# By username only, on purpose: a clinic's staff share one address (NAT, or
# the reverse proxy's), so locking an address would lock the whole front desk
# after a few typos by different people.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "clinic.auth.lockout_response"  # JSON under /api/, a page elsewhere
AXES_CLIENT_STR_CALLABLE = "clinic.auth.axes_client_str"  # logs hold user ids, not usernames
AXES_SENSITIVE_PARAMETERS = ["password"]

# Cache: rate limits (clinic.ratelimit) must be shared by every web worker, so
# Redis when configured; a process-local cache otherwise (make run, tests).
CACHE_URL = env("CACHE_URL", default=REDIS_URL)
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            # Bounded: a Redis that is down must not hang a page (the limiter fails open).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Where the client's address comes from for rate limits: REMOTE_ADDR, or the
# right-most X-Forwarded-For entry when a trusted proxy sets it.
RATELIMIT_USE_X_FORWARDED_FOR = env.bool("RATELIMIT_USE_X_FORWARDED_FOR", default=False)

# Audit trail (django-auditlog, clinic.audit): every change to these health
# records, with old and new values, the user and the client address; reads of
# notes and screenings are logged by the views (clinic.audit.log_access).
AUDITLOG_STORE_JSON_CHANGES = True
# A visit's reverse one-to-one `note` is left out of its diff: reading it cost
# a query on every booking and change (the note has its own audit entries).
_AUDIT_EXCLUDE = {"appointments.Appointment": ["updated_at", "note"]}
AUDITLOG_INCLUDE_TRACKING_MODELS = tuple(
    {"model": model, "exclude_fields": _AUDIT_EXCLUDE.get(model, ["updated_at"])}
    for model in (
        "patients.Patient",
        "patients.Screening",
        "treatments.Medication",
        "treatments.TreatmentPlan",
        "treatments.Authorization",
        "patients.Payer",
        "notes.SessionNote",
        "notes.Addendum",
        "notes.AdverseEvent",
        "appointments.Appointment",
        # Everything a patient writes through a home-program link (R13, issue 22).
        "homecare.IntakeResponse",
        "homecare.HomeProgram",
        "homecare.HomeSession",
    )
)

# JSON lines off DEBUG (clinic.logjson), readable lines in development;
# LOG_FORMAT=json|plain overrides. Every line carries the request id.
LOG_FORMAT = env("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Logs hold ids, never names, emails or clinical text (clinic.logfilters).
    "filters": {
        "redact": {"()": "clinic.logfilters.RedactFilter"},
        "request_id": {"()": "clinic.requestid.RequestIdFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "clinic.logjson.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Lockouts are warnings; every login is in axes' AccessLog table already.
        "axes": {"level": "WARNING"},
        # runserver's own request lines go to its handler: redact them too.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
