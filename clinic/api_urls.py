"""The /api/v1/ router: each app registers its viewsets here."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from clinic.api import TokenView

router = DefaultRouter()
router.include_format_suffixes = False

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    *router.urls,
]
