"""The Redis cache, made safe to lose: when Redis does not answer, every call is served from a
local-memory cache in this process instead of raising.

The cache holds nothing that must survive (allauth's sign-in rate limits, a few counters), so
the fallback only weakens limits while Redis is down (each process counts on its own, so a
limit of 10 a minute becomes 10 per process) instead of failing every sign-in with a 500.
Settings install it in place of Django's RedisCache whenever CACHE_URL is a Redis URL.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from .breaker import CircuitBreaker

# A caller waits at most this long for Redis before the local cache answers instead.
SOCKET_TIMEOUT_SECONDS = 1
RETRY_AFTER_SECONDS = 15
# Refused, timed out, or answering something that is not Redis: for a cache, all mean "not now".
UNREACHABLE = (RedisError, OSError)

# One breaker and one local cache per Redis location, shared by every thread of the process
# (Django builds a cache object per thread).
_breakers: dict[str, CircuitBreaker] = {}


def breaker_for(location: str) -> CircuitBreaker:
    return _breakers.setdefault(
        location, CircuitBreaker(f"the Redis cache ({location})", retry_after=RETRY_AFTER_SECONDS)
    )


class FallbackRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = {
            "socket_connect_timeout": SOCKET_TIMEOUT_SECONDS,
            "socket_timeout": SOCKET_TIMEOUT_SECONDS,
            **params.get("OPTIONS", {}),
        }
        super().__init__(server, {**params, "OPTIONS": options})
        self.breaker = breaker_for(str(server))
        # LocMemCache shares its storage by name across instances, so threads share it too.
        local_params = {k: v for k, v in params.items() if k not in ("OPTIONS", "LOCATION")}
        self.fallback = LocMemCache(f"redis-fallback:{server}", local_params)

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if not self.breaker.is_open:
            try:
                result = getattr(super(), name)(*args, **kwargs)
            except UNREACHABLE as error:
                self.breaker.failed(error)
            else:
                self.breaker.succeeded()
                return result
        return getattr(self.fallback, name)(*args, **kwargs)

    def status(self) -> tuple[bool, str]:
        """Whether Redis answers now (one PING), for /healthz."""
        if self.breaker.is_open:
            return False, f"down ({self.breaker.last_error}); using local memory"
        try:
            cast(Any, self)._cache.get_client().ping()  # RedisCache's client, untyped
        except UNREACHABLE as error:
            self.breaker.failed(error)
            return False, f"down ({type(error).__name__}); using local memory"
        self.breaker.succeeded()
        return True, "redis"

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._call("add", key, value, timeout, version)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._call("get", key, default, version)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._call("set", key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._call("touch", key, timeout, version)

    def delete(self, key: Any, version: Any = None) -> Any:
        return self._call("delete", key, version)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._call("get_many", keys, version)

    def has_key(self, key: Any, version: Any = None) -> Any:
        return self._call("has_key", key, version)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        return self._call("incr", key, delta, version)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys: Any, version: Any = None) -> Any:
        return self._call("delete_many", keys, version)

    def clear(self) -> Any:
        return self._call("clear")
