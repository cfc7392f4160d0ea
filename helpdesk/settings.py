"""Settings, read from the environment (django-environ).

With nothing set, the app runs on the *embedded default*: SQLite, a file cache shared by
web, worker and beat, an in-memory channel layer and a Celery broker on the filesystem.
Set DATABASE_URL and REDIS_URL to run on PostgreSQL and Redis.
"""

import ipaddress
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

from helpdesk.lib.storage import storage_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("HELPDESK_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
env.smart_cast = False

# --- core -------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=True)
_DEV_SECRET = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105 (dev default)
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY or (not DEBUG and SECRET_KEY == _DEV_SECRET):
    raise environ.ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value when DEBUG is off "
        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )
# Django's test runner adds "testserver" itself; production names its hosts explicitly.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])
# Addresses or networks of the proxies in front of the app (e.g. 10.0.0.5,172.18.0.0/16):
# only their X-Forwarded-For is believed. None by default: the peer is the client.
HELPDESK_TRUSTED_PROXIES = env.list("HELPDESK_TRUSTED_PROXIES", default=[])
for _proxy in HELPDESK_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError as _exc:
        raise environ.ImproperlyConfigured(
            f"HELPDESK_TRUSTED_PROXIES: {_proxy!r} is not an address or network ({_exc})."
        ) from _exc

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the docs page's Swagger UI, served from our static files
    "django_filters",
    "django_celery_beat",
    "django_htmx",
    "csp",
    "channels",
    "anymail",
    "tickets",
    "channels_app",
    "knowledge_base",
    "tickets.portal",
    "tickets.workspace",
    "tickets.integrations",
    "tickets.automation",
    "tickets.reports",
    "helpdesk.audit",
    "helpdesk",  # last: its post_migrate setup needs the others' permissions
]

MIDDLEWARE = [
    # First: an oversized webhook body is refused before anything reads it.
    "helpdesk.lib.http.HookBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "helpdesk.lib.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: turns a locked-out sign-in into helpdesk.lib.lockout's answer.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy on every page: scripts only from this origin or with the page's
# nonce (the one inline script, templates/agent/base_agent.html), no plugins, no framing,
# forms only to us; sockets to this origin. Styles allow inline attributes: the admin's
# widgets and the SLA report's bars set them, and the risk CSP guards here is script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

ROOT_URLCONF = "helpdesk.urls"
ASGI_APPLICATION = "helpdesk.asgi.application"
WSGI_APPLICATION = "helpdesk.wsgi.application"

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
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'helpdesk.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers run beside the writer, the
    # busy timeout waits instead of failing, and IMMEDIATE takes the write lock at BEGIN
    # so two writers never deadlock upgrading a read lock ("database is locked").
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
    # Tests on the embedded default use a file, not Django's in-memory database: the live
    # server's threads, the worker and the test each open their own connection to it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-helpdesk.sqlite3")}
    # The covering indexes' INCLUDE columns are a PostgreSQL speed-up; SQLite keeps the
    # key columns and says so on every command, which is noise on the first run.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    # 0: a connection per request. Under ASGI every request runs its ORM work on a thread
    # of its own, so persistent connections pile up per thread (77 for one web process
    # under load, 71 left open after it) until PostgreSQL refuses clients; Django's docs
    # say to disable them there. Put PgBouncer in front for reuse (docker-compose.yml).
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Behind PgBouncer in transaction mode (docker-compose.yml) a cursor cannot outlive
    # its transaction's server connection.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
        "DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: cache, channel layer, broker ------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="helpdesk"),
            # A Redis that hangs must cost a request a second or two, not all of it:
            # callers fall back (configuration from the database, presence left out).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.str("CHANNELS_PREFIX", default="helpdesk:asgi"),
            },
        }
    }
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
else:
    # The file cache (not locmem) because web, worker and beat are separate processes
    # that share rate limits and the worker heartbeat.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    # In memory, in the web server; the worker and beat relay to it over loopback HTTP
    # (helpdesk/lib/layers.py; `serve_all` sets the URL for them).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "helpdesk.lib.layers.RelayedInMemoryChannelLayer",
            "CONFIG": {"relay_url": env.str("HELPDESK_LAYER_RELAY_URL", default="")},
        }
    }
    _broker_dir = VAR_DIR / "celery" / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "results").mkdir(parents=True, exist_ok=True)
    # A hostname keeps kombu from warning that none was given; the transport ignores it.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "data_folder_processed": str(_broker_dir / "processed"),
        # Exchange tables; kombu's default is ./control in whatever directory we started in.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery' / 'results'}"

# --- celery -----------------------------------------------------------------------------
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Keep reconnecting through a broker outage of any length instead of exiting after 100
# tries: the worker is what sends the replies queued meanwhile.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# What the worker prints (the console mail backend's one line per mail) goes to its
# stdout as written, not through its logger with a "WARNING/MainProcess" prefix.
CELERY_WORKER_REDIRECT_STDOUTS = False
# Redis redelivers an unacked task after this; no countdown may exceed it (it would run
# twice). Delivery retries stay far below it.
CELERY_VISIBILITY_TIMEOUT = 3600
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # A Redis that accepts connections but hangs must fail an enqueue (the outbox
        # relay sends it later) or /healthz in seconds, not block a request for good.
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
    CELERY_REDIS_SOCKET_TIMEOUT = 5
# Nothing reads task results but the ping check (which asks for them itself). Without
# this every enqueue also subscribes to its result in Redis, which with Redis down
# retries for 20 s and then leaves the web process's result consumer broken for good.
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- email ------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
globals().update(_email)  # EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, ...
if _email["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend" and (
    env.str("HELPDESK_CONSOLE_MAIL", default="summary") != "full"
):
    # One line per mail with its link, so a newcomer finds the magic link to click.
    EMAIL_BACKEND = "helpdesk.lib.mail.ConsoleSummaryBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Support <support@helpdesk.localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# --- auth, i18n, static, media ----------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes, see helpdesk/lib/lockout.py): per account and per client
# address, on every way in that takes a password (agent and admin forms, API Basic).
AUTHENTICATION_BACKENDS = [
    "helpdesk.lib.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
HELPDESK_AUDIT_RETENTION_DAYS = env.int("HELPDESK_AUDIT_RETENTION_DAYS", default=365)


def _retention(name: str) -> int | None:
    """A retention period from the environment: unset or empty keeps everything (None)."""
    raw = env.str(name, default="").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise environ.ImproperlyConfigured(
            f"{name} is {raw!r}; use a whole number of at least 1, or leave it unset to keep "
            "everything."
        )
    return int(raw)


# Daily purge (docs/trust.md, "Retention"): processed raw payloads lose their content after
# this many days; closed tickets are deleted this many months (of 30 days) after closing.
HELPDESK_RETENTION_RAW_DAYS = _retention("HELPDESK_RETENTION_RAW_DAYS")
HELPDESK_RETENTION_CLOSED_MONTHS = _retention("HELPDESK_RETENTION_CLOSED_MONTHS")
HELPDESK_LOGIN_MAX_FAILURES = env.int("HELPDESK_LOGIN_MAX_FAILURES", default=5)
HELPDESK_LOGIN_LOCKOUT_MINUTES = env.int("HELPDESK_LOGIN_LOCKOUT_MINUTES", default=15)
AXES_FAILURE_LIMIT = HELPDESK_LOGIN_MAX_FAILURES
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = "helpdesk.lib.lockout.login_cool_off"
AXES_LOCKOUT_CALLABLE = "helpdesk.lib.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "helpdesk.lib.lockout.request_client_ip"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
LOGIN_URL = "/agent/login/"
# Two-factor sign-in (helpdesk/twofa): who must have an authenticator app, "admins"
# (Admins group and superusers), "agents" (every agent and admin) or "off". Anyone may
# enrol; whoever has a device is always asked for a code.
HELPDESK_2FA_REQUIRED = env.str("HELPDESK_2FA_REQUIRED", default="admins")
if HELPDESK_2FA_REQUIRED not in ("admins", "agents", "off"):
    raise environ.ImproperlyConfigured(
        f"HELPDESK_2FA_REQUIRED is {HELPDESK_2FA_REQUIRED!r}; use admins, agents or off."
    )
OTP_TOTP_ISSUER = env.str("HELPDESK_2FA_ISSUER", default="Help desk")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a device's key or QR code
LOGIN_REDIRECT_URL = "/agent/"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
MEDIA_URL = "/media/"  # never served directly: attachments go through an authorised view
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Attachments and staged uploads: MEDIA_ROOT, or an S3-compatible bucket
# (HELPDESK_STORAGE_URL=s3://bucket/prefix?endpoint=...; helpdesk/lib/storage.py).
STORAGES = {
    "default": storage_config(env.str("HELPDESK_STORAGE_URL", default="")),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: its `WWW-Authenticate` makes a refused caller's answer 401, not 403.
        "tickets.integrations.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "helpdesk.auth.RememberingBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "helpdesk.roles.IsAgent",
        "tickets.integrations.auth.TokenScopes",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "helpdesk.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Help desk API",
    "DESCRIPTION": "Tickets, customers, attachments, inbound messages and the knowledge "
    "base. Authenticate with `Authorization: Bearer hd_live_…`; each operation names the "
    'token scope it needs. Every error is `{"error": {"code", "message", "fields"}}`.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.Status",
        "TicketPriorityEnum": "tickets.models.Priority",
        "TicketChannelEnum": "tickets.models.Channel",
        "ArticleStatusEnum": "knowledge_base.models.ArticleStatus",
    },
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- product limits ---------------------------------------------------------------------
HELPDESK_TICKET_NUMBER_START = env.int("HELPDESK_TICKET_NUMBER_START", default=1000)
HELPDESK_DELIVERY_MAX_ATTEMPTS = env.int("HELPDESK_DELIVERY_MAX_ATTEMPTS", default=5)
# Seconds before the outbox relay re-enqueues a delivery still queued (its enqueue was lost,
# e.g. with the broker down), and before it resends one stuck in `sending` (a worker
# killed mid-send). The second must stay far above any real send's duration.
HELPDESK_DELIVERY_RELAY_AFTER = env.int("HELPDESK_DELIVERY_RELAY_AFTER", default=60)
HELPDESK_DELIVERY_STALE_AFTER = env.int("HELPDESK_DELIVERY_STALE_AFTER", default=300)
HELPDESK_INBOUND_MAX_BYTES = env.int("HELPDESK_INBOUND_MAX_BYTES", default=25 * 1024 * 1024)
HELPDESK_WORKER_HEARTBEAT_MAX_AGE = env.int("HELPDESK_WORKER_HEARTBEAT_MAX_AGE", default=120)

# --- outgoing webhooks (tickets/integrations/webhooks/, docs/api.md) ---------------------
# Deliver to loopback, private and link-local addresses, and over plain http. Off in
# production (the SSRF guard); the tests and a local development receiver turn it on.
HELPDESK_WEBHOOKS_ALLOW_PRIVATE = env.bool("HELPDESK_WEBHOOKS_ALLOW_PRIVATE", default=False)
# Seconds to connect, and for the whole answer once connected (a receiver that drips its
# answer is cut off too).
HELPDESK_WEBHOOK_CONNECT_TIMEOUT = env.float("HELPDESK_WEBHOOK_CONNECT_TIMEOUT", default=5.0)
HELPDESK_WEBHOOK_READ_TIMEOUT = env.float("HELPDESK_WEBHOOK_READ_TIMEOUT", default=10.0)
# A delivery is retried with backoff for this long after its event, then failed.
HELPDESK_WEBHOOK_GIVE_UP_AFTER = env.int("HELPDESK_WEBHOOK_GIVE_UP_AFTER", default=24 * 3600)
# A webhook is disabled after this many failed attempts in a row, once it has been failing
# for at least HELPDESK_WEBHOOK_DISABLE_MIN_FAILING seconds (a short outage of a busy
# receiver fails many attempts at once, and must not cost it its subscription).
HELPDESK_WEBHOOK_DISABLE_AFTER_FAILURES = env.int(
    "HELPDESK_WEBHOOK_DISABLE_AFTER_FAILURES", default=20
)
HELPDESK_WEBHOOK_DISABLE_MIN_FAILING = env.int("HELPDESK_WEBHOOK_DISABLE_MIN_FAILING", default=3600)
# Like the delivery relay's: a delivery still pending this long after it was due is
# re-enqueued; one stuck in `sending` this long was cut off (worker killed) and is sent
# again. The second stays far above the two timeouts.
# Days a delivered or failed webhook delivery stays in the log (the payload holds the
# customer's data); the daily purge deletes older ones.
HELPDESK_WEBHOOK_LOG_DAYS = env.int("HELPDESK_WEBHOOK_LOG_DAYS", default=30)
HELPDESK_WEBHOOK_RELAY_AFTER = env.int("HELPDESK_WEBHOOK_RELAY_AFTER", default=60)
HELPDESK_WEBHOOK_STALE_AFTER = env.int("HELPDESK_WEBHOOK_STALE_AFTER", default=120)

# --- SMS and chat -----------------------------------------------------------------------
# An SMS joins the sender's open ticket only if it was active this recently.
HELPDESK_SMS_THREAD_WINDOW_DAYS = env.int("HELPDESK_SMS_THREAD_WINDOW_DAYS", default=7)
# The Twilio REST API root; tests and Twilio-compatible providers point it elsewhere.
HELPDESK_TWILIO_API_BASE = env.str(
    "HELPDESK_TWILIO_API_BASE", default="https://api.twilio.com"
).rstrip("/")
HELPDESK_TWILIO_TIMEOUT = env.int("HELPDESK_TWILIO_TIMEOUT", default=15)
# Chat messages one visitor token may send per minute.
# Requests a minute per API token (per agent for session or Basic callers), tickets.api.guards.
HELPDESK_API_RATE_LIMIT = env.int("HELPDESK_API_RATE_LIMIT", default=700)
HELPDESK_CHAT_RATE_LIMIT = env.int("HELPDESK_CHAT_RATE_LIMIT", default=20)
HELPDESK_CHAT_TOKEN_MAX_AGE_DAYS = env.int("HELPDESK_CHAT_TOKEN_MAX_AGE_DAYS", default=365)

# --- customers: web form, portal, knowledge base, satisfaction --------------------------
# PostgreSQL text search configuration for the knowledge base (stemming, stop words).
HELPDESK_KB_SEARCH_CONFIG = env.str("HELPDESK_KB_SEARCH_CONFIG", default="english")
HELPDESK_WEB_MAX_FILES = env.int("HELPDESK_WEB_MAX_FILES", default=5)
HELPDESK_WEB_MAX_FILE_BYTES = env.int("HELPDESK_WEB_MAX_FILE_BYTES", default=10 * 1024 * 1024)
# Web form and portal submissions: at most N per window, per client IP and per email.
HELPDESK_WEB_RATE_WINDOW = env.int("HELPDESK_WEB_RATE_WINDOW", default=3600)
HELPDESK_WEB_RATE_PER_IP = env.int("HELPDESK_WEB_RATE_PER_IP", default=20)
HELPDESK_WEB_RATE_PER_EMAIL = env.int("HELPDESK_WEB_RATE_PER_EMAIL", default=10)
HELPDESK_PORTAL_LINK_RATE_PER_EMAIL = env.int("HELPDESK_PORTAL_LINK_RATE_PER_EMAIL", default=5)
# A sign-in link works once, for this long; an expired one asks for a new one.
HELPDESK_PORTAL_LINK_MAX_AGE = env.int("HELPDESK_PORTAL_LINK_MAX_AGE", default=24 * 3600)
HELPDESK_CSAT_LINK_MAX_AGE = env.int("HELPDESK_CSAT_LINK_MAX_AGE", default=30 * 24 * 3600)
HELPDESK_CSAT_CHANGE_WINDOW = env.int("HELPDESK_CSAT_CHANGE_WINDOW", default=7 * 24 * 3600)
# Seconds between a solve and the satisfaction request (Zendesk's default is a day): a
# ticket reopened meanwhile is not asked about. 0 sends right after the solve commits.
HELPDESK_CSAT_DELAY = env.int("HELPDESK_CSAT_DELAY", default=24 * 3600)
# A public reply to an unassigned ticket assigns it to the agent who replied.
HELPDESK_ASSIGN_ON_REPLY = env.bool("HELPDESK_ASSIGN_ON_REPLY", default=True)

# --- email channel -----------------------------------------------------------------------
# A message over this size is stored and quarantined unparsed (raise it, then reprocess).
HELPDESK_EMAIL_MAX_BYTES = env.int("HELPDESK_EMAIL_MAX_BYTES", default=25 * 1024 * 1024)
# HTML bodies over this size are not sanitized (bounded cost): the text part, or text
# stripped cheaply from the HTML, is kept instead; the full original stays in RawInbound.
HELPDESK_EMAIL_MAX_HTML_BYTES = env.int("HELPDESK_EMAIL_MAX_HTML_BYTES", default=2 * 1024 * 1024)
# Shared secret for POST /hooks/email/raw/ (header X-Helpdesk-Secret); empty disables it.
# Threads one worker process ingests a batch of fetched mail on (PostgreSQL only): while
# one waits for the database, another parses. Conversations keep their order.
HELPDESK_INGEST_THREADS = env.int("HELPDESK_INGEST_THREADS", default=3)
HELPDESK_RAW_EMAIL_SECRET = env.str("HELPDESK_RAW_EMAIL_SECRET", default="")
# New-ticket acknowledgements to any one address per rolling hour.
HELPDESK_ACK_MAX_PER_HOUR = env.int("HELPDESK_ACK_MAX_PER_HOUR", default=3)
# Dotted path of a function(ticket) -> str giving the customer's portal link for
# acknowledgements ("" leaves the link out). The portal replaces the default.
HELPDESK_PORTAL_LINK_FUNCTION = env.str(
    "HELPDESK_PORTAL_LINK_FUNCTION", default="tickets.portal.notifications.portal_link_for_ticket"
)
# ESP inbound webhooks under /hooks/anymail/: basic-auth "user:password" pairs shared by
# every ESP, plus Mailgun's HMAC signing key. An ESP without its secret is refused (403).
ANYMAIL = {"WEBHOOK_SECRET": env.list("ANYMAIL_WEBHOOK_SECRET", default=[])}
if env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default=""):
    ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"] = env.str("MAILGUN_WEBHOOK_SIGNING_KEY")

# --- production hardening (DEBUG off) ---------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes logs every failed sign-in at INFO; its own tables keep them (the admin shows).
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
