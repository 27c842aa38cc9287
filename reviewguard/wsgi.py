"""WSGI entry point (gunicorn reviewguard.wsgi, with reviewguard/gunicorn.conf.py)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewguard.settings")
application = get_wsgi_application()


def warm_up_and_freeze() -> int:
    """Import every view (the URLconf) and put what is loaded out of the garbage
    collector's reach; returns the number of objects frozen.

    A web process keeps ~170,000 long-lived objects (Django, DRF, the apps'
    modules) that no request ever frees. A full (generation 2) collection walks
    them all: ~50 ms of CPU on an idle machine, 120-250 ms of wall time on a
    loaded one, during which every thread of the process stands still (the
    p99 of every request kind in ``bench.load``; see bench/RESULTS.md, issue
    11). ``gc.freeze()`` moves them to a permanent generation that collections
    skip; garbage made by requests is collected as before. gunicorn calls this
    once a worker has loaded the app (``post_worker_init``), before its first
    request; the views are imported first so that they are frozen too.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view module)
    gc.collect()  # what is garbage already is freed, not frozen
    gc.freeze()
    return gc.get_freeze_count()
