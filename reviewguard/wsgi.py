"""WSGI entry point (gunicorn reviewguard.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewguard.settings")
application = get_wsgi_application()
