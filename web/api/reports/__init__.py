"""The reports over the API: the same figures as the report pages (finance, licences,
lifecycle and spares)."""

from web.api.reports import finance, licences, lifecycle

__all__ = ["finance", "licences", "lifecycle"]
