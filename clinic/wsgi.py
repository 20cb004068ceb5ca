import os

from django.core.wsgi import get_wsgi_application

from clinic.startup import application_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
application = application_or_exit(get_wsgi_application)
