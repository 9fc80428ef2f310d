"""Accounts and tenancy: users, clinics, staff memberships, patients, invitations."""

import uuid
import zoneinfo
from datetime import date, datetime, time
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from care.domain.clinic_hours import HoursInvalid, Week, week_from_json
from care.domain.clock import local_date
from care.domain.crisis import COUNTRY_CHOICES, DEFAULT_COUNTRY
from care.domain.reply_target import DEFAULT_HOURS as DEFAULT_RESPONSE_HOURS
from care.domain.reply_target import MAX_HOURS as MAX_RESPONSE_HOURS


def validate_tz(value: str) -> None:
    """Reject anything that is not an IANA time-zone name known to this system."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a known time zone (use a name such as America/Chicago)."),
            params={"value": value},
        )


# Words that would reveal the kind of care to anyone who sees an e-mail's sender.
REVEALING_WORDS = (
    "ketamine",
    "esketamine",
    "spravato",
    "infusion",
    "psychiatr",
    "mental",
    "behavioral",
    "behavioural",
    "depression",
    "anxiety",
    "ptsd",
    "trauma",
    "suicid",
    "crisis",
    "addiction",
)


def validate_neutral_sender_name(value: str) -> None:
    """Reject sender names that reveal psychiatric or ketamine care, or that hold a line break
    or another control character (it goes into the From header of every e-mail)."""
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationError(
            _("The sender name must be one line, without line breaks or control characters."),
            code="control_character",
        )
    found = [word for word in REVEALING_WORDS if word in value.lower()]
    if found:
        raise ValidationError(
            _(
                "The sender name must not reveal the kind of care (found “%(word)s”); "
                "use something neutral such as “Riverside Care Team”."
            ),
            params={"word": found[0]},
        )


def validate_opening_hours(value: object) -> None:
    """Opening hours as stored: {"mon": [["09:00", "17:00"]], …} (care/domain/clinic_hours.py)."""
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise ValidationError(_("Opening hours must map weekdays to lists of times."))
    try:
        week_from_json(value)
    except (HoursInvalid, TypeError, ValueError) as error:
        raise ValidationError(str(error)) from error


def default_checkin_time() -> time:
    """19:00, as a function: Django's checks warn of a fixed `time` default (fields.W161)
    within 10 s of the moment they run, which failed `check --deploy` at 19:00 UTC."""
    return time(19, 0)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> "User":
        """The account whose own address this is, whatever its case (addresses are stored
        in lower case): the only sign-in name an account has."""
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. The e-mail address is the login.

    `is_staff` means "may use the Django admin" (installation operators); clinic staff
    are users with a `StaffMembership`, patients are users with a `Patient` profile.
    """

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    is_staff = models.BooleanField(_("Django admin access"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="care_user_email_ci_unique"),
        ]
        # The caseload's patients by name: a page walks this index (no sort of the clinic).
        indexes = [models.Index(fields=["full_name", "id"], name="user_full_name")]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


# What a new clinic tells its patients to prepare for a session; each clinic edits its own.
DEFAULT_PREP_FASTING = (
    "No food for 6 hours before your session. Clear fluids (water, clear juice, black tea or "
    "coffee) are fine until 2 hours before."
)
DEFAULT_PREP_MEDICINES = (
    "Take your usual medicines unless your care team told you otherwise. Tell us about any new "
    "medicine, supplement or change of dose before your session."
)
DEFAULT_PREP_RIDE = (
    "Arrange a ride home with an adult. Do not drive, cycle or operate machinery until the next "
    "day after a restful sleep."
)
DEFAULT_PREP_BRING = (
    "A photo ID, a list of your medicines, comfortable clothes, and headphones or an eye mask "
    "if you like them."
)


class Clinic(models.Model):
    """The tenant: every patient and every staff member belongs to exactly one clinic."""

    name = models.CharField(_("name"), max_length=200)
    email_sender_name = models.CharField(
        _("e-mail sender name"),
        max_length=100,
        default="Care Team",
        validators=[validate_neutral_sender_name],
        help_text=_("Shown as the sender of e-mails. Must not reveal the kind of care."),
    )
    tz = models.CharField(
        _("time zone"), max_length=64, default="America/New_York", validators=[validate_tz]
    )
    bp_hold_systolic = models.PositiveSmallIntegerField(
        _("pre-dose systolic hold threshold (mmHg)"),
        default=140,
        validators=[MinValueValidator(90), MaxValueValidator(220)],
    )
    bp_hold_diastolic = models.PositiveSmallIntegerField(
        _("pre-dose diastolic hold threshold (mmHg)"),
        default=90,
        validators=[MinValueValidator(50), MaxValueValidator(140)],
    )
    alert_response_minutes = models.PositiveSmallIntegerField(
        _("safety alert response target (minutes)"),
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
    )
    missed_checkin_days = models.PositiveSmallIntegerField(
        _("missed check-in alert after (days)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    message_response_hours = models.PositiveSmallIntegerField(
        _("message response target (working hours)"),
        default=DEFAULT_RESPONSE_HOURS,
        validators=[MaxValueValidator(MAX_RESPONSE_HOURS)],
        help_text=_(
            "How long a patient's message may wait for a reply, counted in the clinic's "
            "opening hours (8 = one working day of 8 hours) before a routine alert is raised; "
            "0 for no target. Without opening hours, counted in hours of the clock."
        ),
    )
    on_call_email = models.EmailField(_("on-call contact e-mail"), blank=True)
    default_checkin_time = models.TimeField(
        _("default daily check-in reminder time"),
        default=default_checkin_time,
        help_text=_("New patients start with this; each patient can change it."),
    )
    pcl5_cutoff = models.PositiveSmallIntegerField(
        _("PCL-5 probable-PTSD cut-off"),
        default=33,
        validators=[MinValueValidator(20), MaxValueValidator(60)],
        help_text=_("VA guidance: 31-33 across samples; choose for your population."),
    )
    # Contact details, shown to patients first on the crisis page and in the crisis bar.
    country = models.CharField(
        _("country"),
        max_length=2,
        choices=COUNTRY_CHOICES,
        default=DEFAULT_COUNTRY,
        help_text=_(
            "Decides the crisis lines and emergency number patients see, and how phone "
            "numbers typed without a country code are read."
        ),
    )
    phone = PhoneNumberField(_("main phone"), blank=True)
    after_hours_phone = PhoneNumberField(
        _("after-hours phone"),
        blank=True,
        help_text=_("Shown to patients first while the clinic is closed."),
    )
    address = models.TextField(_("address"), max_length=500, blank=True)
    opening_hours = models.JSONField(
        _("opening hours"), default=dict, blank=True, validators=[validate_opening_hours]
    )
    # Treatment: chairs, chair time per session, the weight and dose checks of the session
    # form, and what patients read to prepare (docs/clinical.md, "Treatment plans").
    treatment_chairs = models.PositiveSmallIntegerField(
        _("treatment chairs"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("How many patients can be treated at the same time."),
    )
    session_minutes = models.PositiveSmallIntegerField(
        _("chair time per session (minutes)"),
        default=120,
        validators=[MinValueValidator(30), MaxValueValidator(480)],
        help_text=_(
            "How long a session holds its chair: dosing and monitoring until discharge "
            "(at least two hours for intranasal esketamine)."
        ),
    )
    weight_max_age_days = models.PositiveSmallIntegerField(
        _("weight valid for (days)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("The session form warns when the latest weight is older than this."),
    )
    dose_margin_percent = models.PositiveSmallIntegerField(
        _("dose departure warning (%)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_(
            "The session form warns when a recorded dose departs from the plan's by more than this."
        ),
    )
    prep_fasting = models.TextField(
        _("preparation: eating and drinking"),
        max_length=1000,
        blank=True,
        default=DEFAULT_PREP_FASTING,
    )
    prep_medicines = models.TextField(
        _("preparation: medicines"), max_length=1000, blank=True, default=DEFAULT_PREP_MEDICINES
    )
    prep_ride = models.TextField(
        _("preparation: getting home"), max_length=1000, blank=True, default=DEFAULT_PREP_RIDE
    )
    prep_bring = models.TextField(
        _("preparation: what to bring"), max_length=1000, blank=True, default=DEFAULT_PREP_BRING
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def local_date(self, now: datetime) -> date:
        """The calendar date at the clinic at the instant `now`."""
        return local_date(now, self.tz)

    @property
    def week(self) -> Week:
        """The opening hours for care/domain/clinic_hours.py (in the clinic's zone, `tz`)."""
        return week_from_json(self.opening_hours)

    def clean(self) -> None:
        super().clean()
        if (
            self.bp_hold_systolic is not None
            and self.bp_hold_diastolic is not None
            and self.bp_hold_diastolic >= self.bp_hold_systolic
        ):
            raise ValidationError(
                {"bp_hold_diastolic": _("The diastolic threshold must be below the systolic.")}
            )


class StaffMembership(models.Model):
    """Makes a user a member of one clinic's care team, with a role."""

    class Role(models.TextChoices):
        CLINICIAN = "clinician", _("Clinician")
        ADMIN = "admin", _("Clinic admin")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_membership"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(_("role"), max_length=20, choices=Role, default=Role.CLINICIAN)
    title = models.CharField(
        _("title"), max_length=100, blank=True, help_text=_("e.g. RN, NP, MD, coordinator")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(_("deactivated"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        ordering = ["clinic", "user__full_name"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.clinic})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def is_deactivated(self) -> bool:
        return self.deactivated_at is not None

    @property
    def is_awaiting_activation(self) -> bool:
        """Invited (or to be invited) and never signed up; not deactivated."""
        return (
            not self.is_deactivated
            and not self.user.is_active
            and not self.user.has_usable_password()
        )


class Patient(models.Model):
    """A patient's profile, one-to-one with their user account."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        DISCHARGED = "discharged", _("Discharged")

    class Phase(models.TextChoices):
        INDUCTION = "induction", _("Induction")
        MAINTENANCE = "maintenance", _("Maintenance")
        DISCHARGED = "discharged", _("Discharged")

    class ContactMethod(models.TextChoices):
        CALL = "call", _("Phone call")
        TEXT = "text", _("Text message")
        EMAIL = "email", _("E-mail")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patient"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    preferred_name = models.CharField(_("preferred name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    tz = models.CharField(_("time zone"), max_length=64, validators=[validate_tz])
    has_depression = models.BooleanField(_("depression"), default=False)
    has_anxiety = models.BooleanField(_("anxiety"), default=False)
    has_ptsd = models.BooleanField(_("PTSD"), default=False)
    # Questionnaires the care team asks for (instrument codes); empty: by condition.
    questionnaires = models.JSONField(_("questionnaires"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.ACTIVE)
    treatment_phase = models.CharField(
        _("treatment phase"), max_length=20, choices=Phase, default=Phase.INDUCTION
    )
    consultation_on = models.DateField(_("consultation date"))
    primary_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="primary_patients",
        verbose_name=_("primary clinician"),
    )
    enrolled_at = models.DateTimeField(_("enrolled"), default=timezone.now)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Contact details (personal data: never logged, never in e-mails or URLs). Numbers are
    # stored in E.164; typed without a country code, they are read as the clinic's country's.
    phone_mobile = PhoneNumberField(_("mobile phone"), blank=True)
    phone_other = PhoneNumberField(_("other phone"), blank=True)
    may_call = models.BooleanField(_("agrees to be called"), default=False)
    may_text = models.BooleanField(_("agrees to receive text messages"), default=False)
    preferred_contact = models.CharField(
        _("preferred way to be contacted"),
        max_length=10,
        choices=ContactMethod,
        blank=True,
    )
    contact_times = models.CharField(_("best times to contact"), max_length=200, blank=True)
    emergency_contact_name = models.CharField(_("emergency contact"), max_length=150, blank=True)
    emergency_contact_relationship = models.CharField(_("relationship"), max_length=60, blank=True)
    emergency_contact_phone = PhoneNumberField(_("emergency contact's phone"), blank=True)
    # The patient's own safety plan in their words; the patient and the care team see it.
    safety_plan = models.TextField(_("safety plan"), max_length=2000, blank=True)
    # The contact details, as forms give them and `patient_contact_update` takes them.
    CONTACT_FIELDS = (
        "phone_mobile",
        "phone_other",
        "may_call",
        "may_text",
        "preferred_contact",
        "contact_times",
        "emergency_contact_name",
        "emergency_contact_relationship",
        "emergency_contact_phone",
        "safety_plan",
    )

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["user__full_name"]
        indexes = [
            models.Index(fields=["clinic", "status"]),
            # The zones patients live in, read every minute by the reminder dispatcher
            # (notifications.selectors.reminder_windows): a skip over this index.
            models.Index(fields=["tz"], name="patient_tz"),
        ]

    def __str__(self) -> str:
        return self.user.full_name or self.preferred_name

    # The condition flags and their labels, in the order they are shown.
    CONDITION_LABELS = (
        ("has_depression", _("Depression")),
        ("has_anxiety", _("Anxiety")),
        ("has_ptsd", _("PTSD")),
    )

    @property
    def conditions(self) -> list[str]:
        """Labels of the conditions being treated, in a fixed order."""
        return [str(label) for flag, label in self.CONDITION_LABELS if getattr(self, flag)]

    @property
    def phone(self):
        """The number to call the patient on: the mobile, else the other (or empty)."""
        return self.phone_mobile or self.phone_other


class Invitation(models.Model):
    """An e-mailed, single-use, expiring link that activates an account (patient or staff).

    Only a SHA-256 hash of the token is stored; the token itself exists only in the
    e-mail. Issuing a new invitation revokes the earlier unused ones.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation #{self.pk} for user #{self.user_id}"

    def is_usable(self, *, now) -> bool:
        """True if the link can still activate the account at `now`."""
        return (
            self.token_hash is not None
            and self.used_at is None
            and self.revoked_at is None
            and self.expires_at is not None
            and now < self.expires_at
        )


class ApiToken(models.Model):
    """A bearer token for an API client (a phone app, an EHR connector), owned by one user.

    Only a SHA-256 hash of the secret is stored; the secret is shown once, when issued.
    A token expires and can be revoked by its owner; `prefix` identifies it in lists.
    It also stops working when its user's password changes (`password_fingerprint` is
    the user's session hash at issue, as Django ends sessions on a password change).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    password_fingerprint = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    def is_active(self, *, now) -> bool:
        """Usable at `now`: not revoked, not expired, the password unchanged since issue."""
        return (
            self.revoked_at is None
            and now < self.expires_at
            and constant_time_compare(self.password_fingerprint, self.user.get_session_auth_hash())
        )
