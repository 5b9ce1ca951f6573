"""Pydantic models of the API: they validate requests and make the OpenAPI document."""
