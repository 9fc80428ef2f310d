"""The care app's pages: each room keeps its own URLs; one namespace, `care`."""

from care.accounts import urls as accounts
from care.alerts import urls as alerts
from care.audit import urls as audit
from care.caseload import urls as caseload
from care.exports import urls as exports
from care.messages import urls as messages
from care.outcomes import urls as outcomes
from care.records import urls as records
from care.treatment import urls as treatment

app_name = "care"

urlpatterns = [
    *records.urlpatterns,
    *exports.urlpatterns,
    *accounts.urlpatterns,
    *caseload.urlpatterns,
    *alerts.urlpatterns,
    *messages.urlpatterns,
    *treatment.urlpatterns,
    *audit.urlpatterns,
    *outcomes.urlpatterns,
]
