"""Values cached in the shared cache (Redis) under a *data version* that changes when the
data they are computed from changes (docs/performance.md, "Cached per version").

A :class:`VersionedCache` has one version key. Its :meth:`bump` — a signal receiver of the
models it :meth:`watch`-es, and called by bulk writers that send no signals — sets a new
version at once and again once the transaction commits, so a value computed in between,
from data not yet committed, is not kept. :meth:`get` reads the version and the entry in
one round trip; an entry of another version (or none) is computed again. While Redis is
down every read is a miss (``ocop.cache.ResilientRedisCache``): the value is computed.

Two families use it: the statistics (``dossiers.stats``: figures per area) and the
reference data (:data:`reference`: the units of a user's area, the rounds and criteria
sets the filters offer), which changes a few times a year.
"""

import hashlib
import time

from django.core.cache import cache
from django.db import transaction
from django.utils.translation import get_language

from .lru import LRU


class VersionedCache:
    def __init__(self, name, seconds):
        self.name = name
        self.version_key = f"{name}:version"
        self.seconds = seconds  # a callable: settings may change in tests

        def bump_now():
            cache.set(self.version_key, time.time_ns(), None)

        self.bump_now = bump_now
        self._local = LRU(512)  # per process: see local()

    def bump(self, **_kwargs):
        """A new version now, and again once the transaction commits — once per
        transaction, however many rows it saves (a signal receiver)."""
        self.bump_now()
        connection = transaction.get_connection()
        if connection.in_atomic_block and not any(
                entry[1] is self.bump_now for entry in connection.run_on_commit):
            transaction.on_commit(self.bump_now)

    def version(self):
        """The current version (one round trip), or ``None`` while the shared cache is
        down. A missing version (the cache was emptied) is set, so caching goes on."""
        found = cache.get(self.version_key)
        if found is None:
            cache.add(self.version_key, time.time_ns(), None)
            found = cache.get(self.version_key)
        return found

    def local(self, version, compute, *parts, store=None):
        """``compute()`` kept in this process under ``parts`` (and the active language) at
        ``version`` (:meth:`version`, read once per request): for values read on every
        request, where even the shared cache's round trip and unpickling count. Without a
        version (the shared cache is down) it is computed every time. ``store``: an
        :class:`~ocop.lru.LRU` of the caller's, for values with many keys."""
        if version is None:
            return compute()
        store = self._local if store is None else store
        key = (self.name, version, get_language(), *parts)
        found = store.get(key)
        if found is None:
            found = store.put(key, compute())
        return found

    def local_rows(self, version, name, ids, load):
        """The rows ``{id: row}`` of the table ``name`` for ``ids``, kept in this process at
        ``version``: the ids not yet kept are read with ``load(missing_ids)`` (one query)
        and added; the others cost nothing."""
        table = self.local(version, dict, "rows", name)
        missing = set(ids).difference(table)
        if missing:
            table.update(load(missing))
        return table

    def key(self, *parts):
        raw = "|".join(str(p) for p in (get_language(), *parts))
        return f"{self.name}:" + hashlib.sha256(raw.encode()).hexdigest()

    def get(self, compute, *parts):
        """``compute()`` cached under ``parts`` (and the active language) at the current
        version."""
        key = self.key(*parts)
        found = cache.get_many([self.version_key, key])
        version = found.get(self.version_key) or 0
        entry = found.get(key)
        if entry is not None and entry[0] == version:
            return entry[1]
        value = compute()
        cache.set(key, (version, value), self.seconds())
        return value

    def watch(self, *models, m2m=()):
        """Bump on every save and delete of ``models`` (and change of the ``m2m``
        through-tables)."""
        from django.db.models.signals import m2m_changed, post_delete, post_save

        for model in models:
            for signal in (post_save, post_delete):
                signal.connect(self.bump, sender=model, weak=False,
                               dispatch_uid=f"{self.name}-{model._meta.label}-{id(signal)}")
        for through in m2m:
            m2m_changed.connect(self.bump, sender=through, weak=False,
                                dispatch_uid=f"{self.name}-{through._meta.label}-m2m")


#: The reference data: administrative units, rounds, regimes, criteria sets. An entry
#: lives a day at most.
reference = VersionedCache("ref", lambda: 24 * 3600)
