"""Schemas of the reports in the API: finance, licences, lifecycle and spares."""
