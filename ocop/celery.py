"""Celery application: broker and result settings come from Django settings (CELERY_*):
late acknowledgement, redelivery on worker loss, one message per process, and the beat
schedule with the sweep of stale jobs (docs/background-jobs.md)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocop.settings")

app = Celery("ocop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
