"""The websocket's reconnect waits are random ("full jitter") and capped, in a real Chromium.

Fixed waits made every open tab knock at the same instant after a server restart. The module
is loaded as the browser loads it (an ES module over HTTP); no Django server is needed.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

BASE_MS, CAP_MS = 1000, 30000


def live_module(page: Any, static_url: str) -> None:
    page.goto(f"{static_url}/js/live.js")  # same origin, so the module can be imported
    page.evaluate("async () => { window.live = await import('/js/live.js'); }")


def test_each_wait_is_random_below_the_doubling_ceiling_and_the_cap(page: Any, static_url: str) -> None:
    live_module(page, static_url)

    samples: dict[str, list[int]] = page.evaluate(
        """() => {
            const out = {};
            for (let attempt = 0; attempt < 12; attempt++) {
                out[attempt] = Array.from({length: 400}, () => window.live.backoffDelay(attempt));
            }
            return out;
        }"""
    )

    for attempt, delays in samples.items():
        ceiling = min(CAP_MS, BASE_MS * 2 ** int(attempt))
        assert all(0 <= delay < ceiling for delay in delays), (attempt, min(delays), max(delays))
        # Spread over the whole range, not bunched: tabs no longer retry together.
        assert min(delays) < ceiling * 0.1 and max(delays) > ceiling * 0.9, attempt
        assert len(set(delays)) > 300, attempt
    assert max(samples["11"]) < CAP_MS  # 1 s * 2^11 would be 34 min without the cap


def test_the_socket_schedules_its_reconnects_with_that_backoff(page: Any, static_url: str) -> None:
    live_module(page, static_url)

    delays: list[list[int]] = page.evaluate(
        """() => {
            const seen = [];
            const realSetTimeout = window.setTimeout;
            window.setTimeout = (fn, delay) => { seen[seen.length - 1].push(delay); return 0; };
            try {
                for (let tab = 0; tab < 2; tab++) {
                    seen.push([]);
                    const socket = new window.live.LiveSocket("/ws/generation/", {
                        onOpen() {}, onMessage() {}, onState() {},
                    });
                    for (let n = 0; n < 10; n++) socket.scheduleReconnect();
                }
            } finally {
                window.setTimeout = realSetTimeout;
            }
            return seen;
        }"""
    )

    first_tab, second_tab = delays
    assert len(first_tab) == len(second_tab) == 10
    for n, (one, other) in enumerate(zip(first_tab, second_tab, strict=True)):
        assert 0 <= one < min(CAP_MS, BASE_MS * 2**n)
        assert 0 <= other < min(CAP_MS, BASE_MS * 2**n)
    assert first_tab != second_tab  # two tabs do not retry in lockstep
