import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from config.startup import refuse_misconfiguration  # noqa: E402  (needs the apps loaded above)

# A web process with missing or weakening settings never serves: gunicorn stops with
# "Worker failed to boot" and the message names the variables.
refuse_misconfiguration("web")
