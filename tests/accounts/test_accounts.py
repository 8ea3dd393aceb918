from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_signing_up_creates_the_user_and_logs_them_in(client: Any) -> None:
    response = client.post(
        "/accounts/signup/",
        {"username": "carol", "email": "", "password1": "a long enough secret", "password2": "a long enough secret"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/studio/"
    assert User.objects.get(username="carol").email == ""
    assert client.get("/studio/").status_code == 200


def test_signing_up_with_mismatched_passwords_shows_the_error_and_creates_nobody(client: Any) -> None:
    response = client.post(
        "/accounts/signup/",
        {"username": "carol", "password1": "a long enough secret", "password2": "another secret"},
    )

    assert response.status_code == 400
    assert User.objects.count() == 0
    assert "password2" in response.context["form"].errors


def test_logging_in_and_out_with_the_standard_form(client: Any, alice: Any) -> None:
    response = client.post("/accounts/login/", {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 302
    assert client.get("/studio/").status_code == 200

    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/studio/").status_code == 302


def test_the_studio_and_gallery_send_anonymous_visitors_to_log_in(client: Any) -> None:
    for url in ("/studio/", "/gallery/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_admin_works_for_a_superuser(admin_client: Any) -> None:
    assert admin_client.get("/admin/").status_code == 200
    assert admin_client.get("/admin/generation/style/").status_code == 200
    assert admin_client.get("/admin/generation/generationjob/").status_code == 200


def test_createsuperuser_noinput_reads_the_environment(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "WEE_WAA_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SUPERUSER_USERNAME": "root",
        "DJANGO_SUPERUSER_EMAIL": "root@example.com",
        "DJANGO_SUPERUSER_PASSWORD": "a long enough secret",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, timeout=120)
    subprocess.run([*manage, "createsuperuser", "--noinput"], env=env, check=True, timeout=120)
    check = (
        "from accounts.models import User; u = User.objects.get(username='root');"
        "print(u.is_superuser, u.check_password('a long enough secret'))"
    )
    result = subprocess.run(
        [*manage, "shell", "-c", check], env=env, capture_output=True, text=True, timeout=120, check=True
    )

    assert result.stdout.strip().splitlines()[-1] == "True True"


def test_production_settings_pass_the_deploy_checks(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "WEE_WAA_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-0123456789",
        "DEBUG": "false",
        "WEE_WAA_HTTPS": "true",
        "ALLOWED_HOSTS": "studio.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_nonsense_setting_stops_the_start_with_a_clear_message(tmp_path: Path) -> None:
    env = {**os.environ, "WEE_WAA_DATA_DIR": str(tmp_path), "DEBUG": "ture"}

    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr
