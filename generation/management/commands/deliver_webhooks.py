"""``manage.py deliver_webhooks``: send the job webhooks that are due, retrying with backoff.

Each server process already runs a delivery thread; this command is for deployments that keep
outbound calls off the web processes (``WEE_WAA_WEBHOOK_THREAD=false`` there) or want a cron
job (``--once``). Any number may run at once: each delivery is claimed atomically. SIGTERM or
Ctrl+C stops it after the attempt under way (at most ``WEE_WAA_WEBHOOK_TIMEOUT_SECONDS``).
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from generation.webhook_delivery import WebhookDeliverer


class Command(BaseCommand):
    help = "Send due job webhooks (signed POSTs to API tokens' webhook URLs), retrying failed ones with backoff."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Send what is due now, then exit.")
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between looks for due deliveries (default 5)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0:
            raise CommandError("--interval must be more than 0 seconds.")
        deliverer = WebhookDeliverer(poll_seconds=options["interval"])
        if options["once"]:
            attempted = deliverer.run_once()
            self.stdout.write(f"Webhook attempts made: {attempted}")
            return

        def on_signal(signum: int, frame: FrameType | None) -> None:
            deliverer.stop(timeout=0)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.stdout.write("Delivering webhooks (Ctrl+C stops)")
        self.stdout.flush()
        deliverer.run_forever()
        self.stdout.write("Stopped")
