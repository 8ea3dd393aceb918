"""No one can sign up as a lookalike of an existing user (admin with a Cyrillic a next to admin)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from accounts.models import User, username_skeleton

pytestmark = pytest.mark.django_db

SECRET = "a long enough secret"


def sign_up(username: str) -> Any:
    return Client().post("/accounts/signup/", {"username": username, "password1": SECRET, "password2": SECRET})


@pytest.mark.parametrize(
    "lookalike",
    ["\u0430dmin", "\u0410DMIN", "adm\u0456n", "adm1n", "\u0251dmin", "\u00e1dm\u00edn", "ADM\u0399N"],
    ids=["cyrillic-a", "cyrillic-capital-a", "cyrillic-i", "digit-one", "latin-alpha", "accents", "greek-iota"],
)
def test_a_lookalike_of_an_existing_username_is_refused_with_a_message(lookalike: str) -> None:
    User.objects.create_user("admin", password=SECRET)

    response = sign_up(lookalike)

    assert response.status_code == 400
    assert "looks too much like an existing one" in response.content.decode()
    assert User.objects.count() == 1


def test_different_names_still_sign_up() -> None:
    User.objects.create_user("admin", password=SECRET)

    assert sign_up("administrator").status_code == 302
    assert sign_up("김철수").status_code == 302


def test_the_skeleton_follows_renames_but_not_other_saves() -> None:
    user = User.objects.create_user("alice", password=SECRET)
    assert user.username_skeleton == username_skeleton("alice") == "allce"

    user.username = "alicia"
    user.save()
    user.last_login = None
    user.save(update_fields=["last_login"])

    assert User.objects.get(pk=user.pk).username_skeleton == "allcla"


def test_a_very_long_name_that_folding_expands_still_fits_the_column() -> None:
    # 150 characters, the column's limit; case folding makes each "ß" two letters ("ss").
    user = User.objects.create_user("\u00df" * 150, password=SECRET)

    assert len(User.objects.get(pk=user.pk).username_skeleton or "") == 255


def test_the_migration_fills_skeletons_and_leaves_old_lookalikes_unblocked() -> None:
    first = User.objects.create_user("admin", password=SECRET)
    second = User.objects.create_user("dora", password=SECRET)
    # An account made before the column existed, looking like the first one.
    User.objects.filter(pk=second.pk).update(username="\u0430dmin")
    User.objects.update(username_skeleton=None)
    migration = importlib.import_module("accounts.migrations.0002_username_skeleton")

    migration.fill_skeletons(apps, None)

    assert User.objects.get(pk=first.pk).username_skeleton == "admln"
    assert User.objects.get(pk=second.pk).username_skeleton is None
    # Both still log in.
    assert Client().login(username="\u0430dmin", password=SECRET)
