"""``manage.py serve``: migrate, then run daphne with the in-process model manager.

The one command behind the README's *run* line, so a fresh clone needs nothing by hand.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Apply migrations and serve Wee-Waa (HTTP + websockets) with daphne."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("ensure_characters")
        from daphne.cli import CommandLineInterface

        shown = "localhost" if host in ("0.0.0.0", "::") else host  # noqa: S104 - only picks the address to print
        self.stdout.write(self.style.SUCCESS(f"Wee-Waa is starting at http://{shown}:{port}/"), ending="\n")
        self.stdout.flush()
        try:
            CommandLineInterface().run(["--bind", host, "--port", str(port), "wee_waa.asgi:application"])
        finally:
            from generation.runtime import stop_server_runtime

            stop_server_runtime()  # already stopped by the reactor's shutdown hook; a safety net
