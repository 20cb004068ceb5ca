"""The /api/v1/ router: each app's api.py registers its viewsets."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from appointments.api import register as register_appointments
from clinic.api import TokenView
from clinic.ratelimit import TOKEN_LIMIT, rate_limit
from clinic.users_api import register as register_users
from notes.api import urls as note_urls
from patients.api import register as register_patients
from supplies.api import register as register_supplies
from treatments.api import register as register_treatments

router = DefaultRouter()
router.include_format_suffixes = False
register_users(router)
register_patients(router)
register_treatments(router)
extra_patterns = register_appointments(router)
supplies_patterns = register_supplies(router)

urlpatterns = [
    path("auth/token/", rate_limit("api-token", limit=TOKEN_LIMIT)(TokenView.as_view()), name="token"),
    *extra_patterns,
    *note_urls(),
    *supplies_patterns,
    *router.urls,
]
