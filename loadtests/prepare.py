"""Fill the load test's database and write the credentials the locust users need.

    .venv/bin/python loadtests/prepare.py --patients 1000 --days 90 --clinicians 10 OUT.json

Run by loadtests/run against an empty, migrated database. It loads the demo clinic with
`seed_demo` (bulk inserts), adds clinicians, gives every member of staff an authenticator
(TOTP, as production requires) and issues a bearer token to every patient and clinician
directly with the service, as the API would after a password and a code. OUT.json (mode 600)
holds the tokens, the clinicians' passwords and TOTP secrets, and the row counts before the run.
"""

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--clinicians", type=int, default=10)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()

    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from care.accounts.tokens import api_token_issue
    from care.models import CheckIn, CheckInRevision, Clinic, Patient, StaffMembership, User
    from devtools.management.commands.seed_demo import DEMO_CLINIC

    call_command(
        "seed_demo", patients=args.patients, days=args.days, no_alert_replay=True, verbosity=0
    )
    now = timezone.now()
    password = secrets.token_urlsafe(16)
    clinic = Clinic.objects.get(name=DEMO_CLINIC)
    with transaction.atomic():
        hashed = make_password(password)
        for n in range(1, args.clinicians + 1):
            email = f"load-clinician{n:03d}@demo.example"
            user = User.objects.create(
                email=email, full_name=f"Load Clinician {n}", password=hashed
            )
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            StaffMembership.objects.create(user=user, clinic=clinic, title="RN")
        clinicians = []
        for user in User.objects.filter(email__startswith="load-clinician").order_by("email"):
            secret = generate_totp_secret()
            TOTP.activate(user, secret)
            issued = api_token_issue(user=user, name="load test", days=1, now=now)
            clinicians.append(
                {
                    "email": user.email,
                    "password": password,
                    "totp_secret": secret,
                    "token": issued.secret,
                }
            )
        patients = [
            api_token_issue(user=p.user, name="load test", days=1, now=now).secret
            for p in Patient.objects.filter(clinic=clinic, user__is_active=True)
            .select_related("user")
            .order_by("pk")
        ]
    data = {
        "patients": patients,
        "clinicians": clinicians,
        "before": {
            "checkins": CheckIn.objects.count(),
            "revisions": CheckInRevision.objects.count(),
        },
    }
    args.out.touch(mode=0o600)
    args.out.write_text(json.dumps(data))
    print(
        f"prepared: {len(patients)} patients with tokens, {len(clinicians)} clinicians "
        f"(TOTP and tokens), {data['before']['checkins']:,} check-ins of history"
    )


if __name__ == "__main__":
    main()
