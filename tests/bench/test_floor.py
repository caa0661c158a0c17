"""The bench's floor: one view outside the product, one SQL query, no middleware."""

import uuid

import pytest
from django.urls import Resolver404, resolve


@pytest.fixture
def floor_urls(settings):
    settings.ROOT_URLCONF = "bench.floor"


def test_it_reads_the_session_with_one_query(client, session, floor_urls, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(f"/floor/session/{session.pk}")
    assert response.status_code == 200
    body = response.json()
    session.refresh_from_db()
    assert uuid.UUID(body["id"]) == session.pk
    assert body["status"] == session.status
    assert body["version"] == session.version
    assert body["venue_name"] == session.venue_name
    assert body["user1_id"] == session.user1_id


def test_it_answers_404_for_a_session_that_does_not_exist(client, session, floor_urls):
    response = client.get(f"/floor/session/{uuid.uuid4()}")
    assert response.status_code == 404


def test_it_is_not_among_the_product_urls(session):
    with pytest.raises(Resolver404):
        resolve(f"/floor/session/{session.pk}", urlconf="wingman.urls")


def test_its_settings_have_no_middleware_and_no_health_check():
    from django.conf import settings as product

    from bench import floor_settings

    assert floor_settings.MIDDLEWARE == []
    assert floor_settings.ROOT_URLCONF == "bench.floor"
    assert floor_settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is False
    # The product's settings are left alone by the import.
    assert product.MIDDLEWARE
    assert "bench" not in product.ROOT_URLCONF
