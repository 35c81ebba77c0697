"""The older name of ``restore_keystore``: the same command, kept for the scripts that call it."""

from .restore_keystore import Command as RestoreKeystore


class Command(RestoreKeystore):
    help = f"The older name of restore_keystore. {RestoreKeystore.help}"
