"""Serializers and viewsets of the treatments app (registered in clinic/api_urls.py)."""

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the /api/v1/ router."""
