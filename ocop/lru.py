"""A small thread-safe least-recently-used dict, for values kept per process (gunicorn's
threaded workers share it): rendered fragments and prepared structures keyed by everything
they depend on (docs/performance.md)."""

from collections import OrderedDict
from threading import Lock


class LRU:
    def __init__(self, size):
        self.size = size
        self.data = OrderedDict()
        self.lock = Lock()

    def get(self, key):
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key, value):
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)
        return value

    def clear(self):
        with self.lock:
            self.data.clear()
