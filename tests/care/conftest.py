"""Fixtures shared by the care tests."""

import pytest

from tests.factories import give_second_factor


@pytest.fixture
def operator(django_user_model):
    """An installation's superuser (Django admin), with a second factor."""
    user = django_user_model.objects.create_superuser(
        email="operator@example.org", password="an-operator-passphrase"
    )
    give_second_factor(user)
    return user
