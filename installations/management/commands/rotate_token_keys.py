from django.core.management.base import BaseCommand

from installations.services import installation_rotate_token_encryption


class Command(BaseCommand):
    help = "Re-encrypt every stored installation token with the newest TOKEN_ENCRYPTION_KEYS key."

    def handle(self, *args, **options) -> None:
        count = installation_rotate_token_encryption()
        self.stdout.write(f"re-encrypted {count} installation token(s)")
