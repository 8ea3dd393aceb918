"""The Redis channel layer with connection settings that keep idle websockets up.

channels-redis reads each process's messages with a blocking ``BZPOPMIN`` of
``brpop_timeout`` (5 s) seconds. redis-py 8 gives every connection a 5 s socket timeout by
default, so an idle read and its timeout raced, and every idle ``/ws/generation/`` was closed
with 1011 after about 6 s (``redis.exceptions.TimeoutError``). Here the read timeout is derived
from the blocking read — always ``READ_MARGIN`` seconds longer — so it can never fire on an idle
read, yet still notices a Redis that went silent.

The stock layer's pool also raised "Too many connections" once about 100 handshakes ran at
once in one process; here the pool is a ``BlockingConnectionPool``: a full pool makes a
handshake wait (up to ``pool_timeout``), not fail.
"""

from __future__ import annotations

from typing import Any

from channels_redis.core import RedisChannelLayer as StockRedisChannelLayer  # type: ignore[import-untyped]
from redis import asyncio as aioredis

READ_MARGIN = 10.0
CONNECT_TIMEOUT = 5.0
HEALTH_CHECK_INTERVAL = 30


class RedisChannelLayer(StockRedisChannelLayer):  # type: ignore[misc]
    def __init__(self, *args: Any, max_connections: int = 100, pool_timeout: float = 10.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_connections = max_connections
        self.pool_timeout = pool_timeout

    def connection_options(self) -> dict[str, Any]:
        return {
            "max_connections": self.max_connections,
            "timeout": self.pool_timeout,  # how long a caller waits for a free connection
            "socket_timeout": self.brpop_timeout + READ_MARGIN,
            "socket_connect_timeout": CONNECT_TIMEOUT,
            "socket_keepalive": True,
            "health_check_interval": HEALTH_CHECK_INTERVAL,
        }

    def create_pool(self, index: int) -> aioredis.ConnectionPool:
        host = dict(self.hosts[index])
        if "address" not in host:  # sentinel or host/port dicts: the stock behaviour
            stock: aioredis.ConnectionPool = super().create_pool(index)
            return stock
        address = host.pop("address")
        return aioredis.BlockingConnectionPool.from_url(address, **{**self.connection_options(), **host})
