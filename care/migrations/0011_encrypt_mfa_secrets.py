"""Encrypt the authenticator secrets stored in clear before (care.mfa_secrets)."""

from django.db import migrations

from care.accounts import mfa_secrets


def encrypt_secrets(apps, schema_editor):
    Authenticator = apps.get_model("mfa", "Authenticator")
    using = schema_editor.connection.alias if schema_editor is not None else "default"
    if Authenticator.objects.using(using).filter(type__in=mfa_secrets.SECRET_FIELDS).exists():
        mfa_secrets.authenticators_reencrypt(Authenticator, using=using)


def decrypt_secrets(apps, schema_editor):
    Authenticator = apps.get_model("mfa", "Authenticator")
    using = schema_editor.connection.alias
    rows = Authenticator.objects.using(using).filter(type__in=mfa_secrets.SECRET_FIELDS)
    for authenticator in rows:
        authenticator.data = mfa_secrets.data_decrypted(authenticator.type, authenticator.data)
        authenticator.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0010_auditevent_denied_link_admin_wrong_code"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_secrets, decrypt_secrets, elidable=False)]
