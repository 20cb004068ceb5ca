#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    # manage.py is the developer's entry point: development mode unless DEBUG
    # says otherwise. The web server (wsgi/asgi) and the Celery processes do
    # not come through here and default to production mode (DEBUG off, a
    # SECRET_KEY required); docker-compose sets DEBUG=false for every command.
    os.environ.setdefault("DEBUG", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
