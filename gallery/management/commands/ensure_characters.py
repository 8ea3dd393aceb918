"""``manage.py ensure_characters``: add the shipped characters that are missing (safe to repeat)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from gallery.characters import ensure_characters


class Command(BaseCommand):
    help = "Add the characters Wee-Waa ships with, leaving existing ones as admins left them."

    def handle(self, *args: Any, **options: Any) -> None:
        added = ensure_characters()
        self.stdout.write(f"Added {len(added)} character{'' if len(added) == 1 else 's'}.")
