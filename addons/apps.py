import logging

from django.apps import AppConfig
from django.conf import settings


class AddonsConfig(AppConfig):
    name = "addons"
    verbose_name = "Add-on variants"

    def ready(self) -> None:
        if not settings.REQUIRE_SIGNATURE_VERIFICATION:
            # Loud on every start: this escape hatch accepts unsigned Clockify traffic.
            logging.getLogger("addons.security").warning(
                "signature_verification_disabled: REQUIRE_SIGNATURE_VERIFICATION=false; Clockify token "
                "signatures are NOT verified. Never run like this outside local development."
            )
