"""Serializers and viewsets of the appointments app (registered in clinic/api_urls.py)."""

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> list:
    """Add this app's viewsets to the /api/v1/ router; return extra URL patterns."""
    return []
