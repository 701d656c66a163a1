"""Helpers of the background-job pattern (docs/background-jobs.md), shared by the apps.

* :func:`wake` sends a Celery task its wake-up and reports a broker that cannot be reached
  instead of raising: the status row stays queued and the app's beat sweep sends it again.
* :func:`job_lock` holds a PostgreSQL session-level advisory lock while a job runs, so a
  second delivery of the same message can tell a job that is really running from a row
  left behind by a killed worker (the server drops the lock with the connection).
"""

import logging
from contextlib import contextmanager

from django.db import DatabaseError, connection
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def wake(task, *args):
    """Send ``task`` its wake-up; False (logged) when the broker cannot be reached."""
    try:
        task.delay(*args)
    except (KombuError, RedisError, OSError) as error:
        logger.warning("Could not queue %s%r (%s: %s); the sweep will retry it",
                       task.name, args, type(error).__name__, error)
        return False
    return True


def locks_supported():
    return connection.vendor == "postgresql"


@contextmanager
def job_lock(lock_class, key):
    """Hold the advisory lock (``lock_class``, ``key``) while the body runs; yields True
    (held), False (another worker holds it: the job is genuinely running) or None (no
    locks on this database, e.g. SQLite in ``make run``)."""
    if not locks_supported():
        yield None
        return
    pair = (lock_class, int(key) % 2**31)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", pair)
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", pair)
            except DatabaseError:  # the connection is gone, and the lock with it
                logger.warning("Could not release the job lock %r", pair)
