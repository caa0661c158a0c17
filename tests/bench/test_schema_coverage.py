"""The bench fills the tables with hand-written INSERTs: every column that must have a value is in them.

Django sets defaults in Python, not in the database, so a new NOT NULL column
that the bench's INSERTs leave out breaks the bench's build; this catches it
when the column is added, not when someone next runs the bench.
"""

import re

import pytest
from django.db import models

from bench import database
from sessions_app.models import ReputationLedger, UserProfile, WingmanSession


def required_columns(model) -> set[str]:
    """Columns that must have a value (an auto-incremented key gets one from its sequence)."""
    return {field.column for field in model._meta.concrete_fields
            if not field.null and not isinstance(field, models.AutoField)}


def insert_columns(table: str) -> set[str]:
    sql = next(statement for name, statement in database.FILL if f"INSERT INTO {table}" in statement)
    listed = re.search(rf"INSERT INTO {table} \(([^)]*)\)", sql).group(1)
    return {name.strip() for name in listed.split(",")}


@pytest.mark.parametrize(("model", "listed"), [
    (WingmanSession, lambda: {name.strip() for name in database.SESSION_COLUMNS.split(",")}),
    (UserProfile, lambda: insert_columns("user_profiles")),
    (ReputationLedger, lambda: insert_columns("reputation_ledger")),
], ids=["sessions", "profiles", "ledger"])
def test_every_required_column_is_filled(model, listed):
    assert required_columns(model) - listed() == set()
