"""Helpers for the page tests: the HTMX request header (logged-in clients: tests/conftest.py)."""

HTMX = {"HTTP_HX_REQUEST": "true"}
