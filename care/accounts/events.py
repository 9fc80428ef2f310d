"""What accounts announce to the apps built on care, which care itself never imports.

`patient_enrolled` is sent inside the enrollment's transaction, with the new `patient` and
`reminders_by_text` (the staff chose texts too, with the patient's consent): the
notifications app creates the patient's reminder preference on it (connected in
notifications/apps.py), in the same transaction, so no patient exists without one and a
failed enrollment leaves neither. It is the one hand-off of this kind: everything else calls
services directly (docs/architecture.md, "care and notifications").
"""

from django.dispatch import Signal

patient_enrolled = Signal()
