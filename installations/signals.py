"""Extension points fired by installation services, after the change commits.

Other apps connect receivers (bootstrap starts a run on ``installation_installed``) instead of
the lifecycle code importing them. Receivers get ``installation`` as a keyword argument.
"""

from django.dispatch import Signal

installation_installed = Signal()
installation_deleted = Signal()
installation_settings_updated = Signal()
installation_status_changed = Signal()
