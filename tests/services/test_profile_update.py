"""profile_update: display name as plain text, time zone must be IANA."""

import pytest

from sessions_app import services
from sessions_app.errors import InvalidInput
from tests.services.conftest import profile


def test_it_updates_name_and_time_zone(alice):
    services.profile_update(user=alice, display_name=" <b>Ali</b>  ce<script>x</script> ",
                            timezone_name="Asia/Tokyo")
    assert (profile(alice).display_name, profile(alice).timezone) == ("<b>Ali</b> ce", "Asia/Tokyo")


def test_it_creates_a_missing_profile(db, django_user_model):
    user = django_user_model.objects.create_user(username="fresh")
    services.profile_update(user=user, display_name="Fresh")
    assert profile(user).display_name == "Fresh"


@pytest.mark.parametrize("changes", [{"timezone_name": "Mars/Olympus"}, {"display_name": "x" * 101},
                                     {"display_name": 5}])
def test_it_refuses_bad_values(alice, unchanged, changes):
    with unchanged(), pytest.raises(InvalidInput):
        services.profile_update(user=alice, **changes)
