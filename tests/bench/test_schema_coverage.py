"""The bench fills the tables with hand-written INSERTs: every column that must have a value is in them.

Django sets defaults in Python, not in the database, so a new NOT NULL column
that the bench's INSERTs leave out breaks the bench's build; this catches it
when the column is added, not when someone next runs the bench.
"""

import re

import pytest

from bench import database
from sessions_app.models import UserProfile, WingmanSession


def required_columns(model) -> set[str]:
    return {field.column for field in model._meta.concrete_fields if not field.null}


def profile_insert_columns() -> set[str]:
    sql = next(statement for name, statement in database.FILL if "INSERT INTO user_profiles" in statement)
    listed = re.search(r"INSERT INTO user_profiles \(([^)]*)\)", sql).group(1)
    return {name.strip() for name in listed.split(",")}


@pytest.mark.parametrize(("model", "listed"), [
    (WingmanSession, lambda: {name.strip() for name in database.SESSION_COLUMNS.split(",")}),
    (UserProfile, profile_insert_columns),
], ids=["sessions", "profiles"])
def test_every_required_column_is_filled(model, listed):
    assert required_columns(model) - listed() == set()
