from django.db import migrations

# An alert records its escalation itself (escalated_at, escalated_to, written with the
# escalation e-mails since 2026-11-27). Alerts escalated by an earlier version were e-mailed
# to the clinicians but left escalated_at empty: they get it here from those e-mails (the
# first one's due time, every address it went to), so the outcome report reads escalations
# from the alert alone. Backwards, nothing to undo.
FILL = r"""
UPDATE care_alert a SET escalated_at = e.first_due, escalated_to = e.addresses
FROM (
    SELECT alert_id, min(due_at) AS first_due,
        string_agg(DISTINCT to_email, ', ' ORDER BY to_email) AS addresses
    FROM notifications_delivery
    WHERE kind = 'safety_escalation' AND status = 'sent' AND alert_id IS NOT NULL
    GROUP BY alert_id
) e
WHERE a.id = e.alert_id AND a.escalated_at IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0014_export_jobs"),
        ("notifications", "0008_delivery_subject_columns"),
    ]

    operations = [migrations.RunSQL(FILL, migrations.RunSQL.noop)]
