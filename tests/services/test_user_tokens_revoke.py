from datetime import timedelta

from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from sessions_app import services


def test_it_blacklists_every_outstanding_refresh_token_of_the_user(alice, bob):
    alice_tokens = [RefreshToken.for_user(alice) for _ in range(3)]
    bob_token = RefreshToken.for_user(bob)
    assert services.user_tokens_revoke(user=alice) == 3
    blacklisted = set(BlacklistedToken.objects.values_list("token__jti", flat=True))
    assert blacklisted == {token["jti"] for token in alice_tokens}
    assert bob_token["jti"] not in blacklisted


def test_it_is_safe_to_repeat(alice):
    RefreshToken.for_user(alice).blacklist()
    RefreshToken.for_user(alice)
    assert services.user_tokens_revoke(user=alice) == 1
    assert services.user_tokens_revoke(user=alice) == 0
    assert BlacklistedToken.objects.filter(token__user=alice).count() == 2


def test_it_leaves_expired_tokens_alone(alice):
    RefreshToken.for_user(alice)
    OutstandingToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.user_tokens_revoke(user=alice) == 0
    assert not BlacklistedToken.objects.exists()


def test_a_new_password_revokes_them_but_another_save_does_not(alice):
    RefreshToken.for_user(alice)
    alice.first_name = "Alice"
    alice.save()
    assert not BlacklistedToken.objects.exists()
    alice.set_password("another-long-secret-7")
    alice.save()
    assert BlacklistedToken.objects.filter(token__user=alice).count() == 1
