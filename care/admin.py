from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from care.audit.services import audit_view
from care.common.access import patient_for_user
from care.models import AuditEvent, Clinic, Invitation, Patient, StaffMembership, User


class AuditedReadsAdmin(admin.ModelAdmin):
    """Lists, records and saves of people's data in the admin leave audit rows.

    A record about a patient (their profile, their account, their invitation) names the
    patient; a list names no one, as the caseload's row does. Every page drawn (answered
    200) is a read, whatever the method: a list, a record, its history, its delete
    confirmation, and a form sent back with errors; a save redirects and is recorded as
    the change it is.
    """

    audit_what = AuditEvent.What.ACCOUNT

    def audited_patient(self, obj) -> Patient | None:
        return patient_for_user(obj.user)

    def _audit(self, request, action: str, obj=None) -> None:
        patient = self.audited_patient(obj) if obj is not None else None
        object_id = patient.public_id if patient is not None else ""
        audit_view(
            request, action=action, what=self.audit_what, patient=patient, object_id=object_id
        )

    def _audit_drawn(self, request, response, object_id=None):
        """Record a read of the list (no object_id) or of the object, if the page was drawn."""
        if response.status_code != 200:
            return response
        if object_id is None:
            self._audit(request, AuditEvent.Action.VIEWED)
        elif (obj := self.get_object(request, unquote(object_id))) is not None:
            self._audit(request, AuditEvent.Action.VIEWED, obj)
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        return self._audit_drawn(request, response)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        return self._audit_drawn(request, response, object_id)

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        return self._audit_drawn(request, response, object_id)

    def delete_view(self, request, object_id, extra_context=None):
        # The confirmation lists the record and everything of the patient's it would delete.
        response = super().delete_view(request, object_id, extra_context)
        return self._audit_drawn(request, response, object_id)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        self._audit(
            request, AuditEvent.Action.CHANGED if change else AuditEvent.Action.CREATED, obj
        )


@admin.register(User)
class UserAdmin(AuditedReadsAdmin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal"), {"fields": ["full_name"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]}),
    ]

    def audited_patient(self, obj) -> Patient | None:
        return patient_for_user(obj)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        return self._audit_drawn(request, response, id)


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "tz", "email_sender_name"]
    search_fields = ["name"]


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "clinic", "role", "title"]
    list_filter = ["clinic", "role"]
    autocomplete_fields = ["user"]


@admin.register(Patient)
class PatientAdmin(AuditedReadsAdmin):
    audit_what = AuditEvent.What.PATIENT

    list_display = ["__str__", "clinic", "status", "treatment_phase"]
    list_filter = ["clinic", "status", "treatment_phase"]
    search_fields = ["user__full_name", "preferred_name", "user__email"]
    autocomplete_fields = ["user", "primary_clinician"]
    readonly_fields = ["public_id", "enrolled_at", "enrolled_by"]

    def audited_patient(self, obj) -> Patient | None:
        return obj


@admin.register(Invitation)
class InvitationAdmin(AuditedReadsAdmin):
    list_display = ["user", "created_at", "sent_at", "expires_at", "used_at", "revoked_at"]
    readonly_fields = [f.name for f in Invitation._meta.fields]


@admin.register(AuditEvent)
class AuditEventAdmin(AuditedReadsAdmin):
    """Read-only: the audit trail can be looked at, never added to, changed or deleted.

    Looking is recorded, as on the audit page: a row names its patient.
    """

    audit_what = AuditEvent.What.AUDIT

    list_display = ["at", "actor_email", "actor_role", "action", "what", "object_id", "channel"]
    list_filter = ["action", "what", "channel", "actor_role", "clinic"]
    search_fields = ["actor_email", "object_id"]
    date_hierarchy = "at"
    list_select_related = ["actor", "clinic", "patient"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    actions = None

    def audited_patient(self, obj) -> Patient | None:
        return obj.patient

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AuditedAutocompleteJsonView(AutocompleteJsonView):
    """The admin's autocomplete, answering with people's names and addresses: a list read."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        what = getattr(self.model_admin, "audit_what", None)
        if response.status_code == 200 and what is not None:
            audit_view(request, action=AuditEvent.Action.VIEWED, what=what)
        return response


def audited_autocomplete_view(request):
    return AuditedAutocompleteJsonView.as_view(admin_site=admin.site)(request)


# Read when admin.site.urls is built (tracker/urls.py), after this module is imported.
admin.site.autocomplete_view = audited_autocomplete_view  # type: ignore[method-assign]  # on this one site

# allauth's list of e-mail addresses would list every person's sign-in address, patients'
# included, unaudited. The address is the account's own (the clinic sets it; allauth's e-mail
# page is closed), so the audited account pages above are where it is read. (allauth.account
# comes before care in INSTALLED_APPS, so its admin is registered by now.)
if admin.site.is_registered(EmailAddress):
    admin.site.unregister(EmailAddress)
