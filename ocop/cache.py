"""The cache backend for production: Django's Redis cache that degrades to "no cache".

Redis is a convenience here (rendered PDFs, the API throttle), never the truth. When it
cannot be reached, a read is a miss, a write is dropped and a warning is logged, so pages
keep answering instead of failing with a server error. After a failure the backend does not
try Redis again for ``RETRY_AFTER`` seconds (per process), so that an unreachable host does
not cost every request its socket timeout.

Settings: ``CACHES["default"]["BACKEND"] = "ocop.cache.ResilientRedisCache"``.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

#: Seconds during which a process treats Redis as down after a failed call.
RETRY_AFTER = 10.0


class ResilientRedisCache(RedisCache):
    _down_until = 0.0  # per instance once set; time.monotonic() value

    def _call(self, name, missing, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return missing
        try:
            return getattr(super(), name)(*args, **kwargs)
        except (RedisError, OSError) as error:
            self._down_until = time.monotonic() + RETRY_AFTER
            logger.warning("Cache unavailable (%s: %s); continuing without it for %s s",
                           type(error).__name__, error, RETRY_AFTER)
            return missing

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default=default, version=version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version=version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version=version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, key, value, timeout=timeout, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", None, key, value, timeout=timeout, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", list(data), data, timeout=timeout, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, key, timeout=timeout, version=version)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version=version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", None, keys, version=version)

    def incr(self, key, delta=1, version=None):
        value = self._call("incr", None, key, delta=delta, version=version)
        if value is None:  # unreachable: the same answer as a missing key
            raise ValueError(f"Key '{key}' not found")
        return value

    def clear(self):
        return self._call("clear", False)
