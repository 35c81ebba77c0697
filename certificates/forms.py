"""The upload, root CA and restore forms. They only carry input: every check is in ``services``."""

from django import forms

from keystore.api import ALIAS_TOO_LONG, MAX_ALIAS_LENGTH


class UploadForm(forms.Form):
    certificate_file = forms.FileField(label="Certificate File", required=False, allow_empty_file=True)
    # The certificate read by "Read file" without JavaScript, carried so that only the key has to be chosen again.
    # It is public data and goes through the same parser again on Save.
    certificate_pem = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64 * 1024)
    key_file = forms.FileField(label="Key File", required=False, allow_empty_file=True)
    key_password = forms.CharField(
        label="Private Key Password",
        required=False,
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Needed only for an encrypted key.",
    )
    alias = forms.CharField(
        label="Alias",
        required=False,
        max_length=MAX_ALIAS_LENGTH,
        error_messages={"max_length": ALIAS_TOO_LONG},
        help_text="Proposed from the certificate; unique in this tenant.",
    )


class RootCAForm(forms.Form):
    certificate_file = forms.FileField(label="Certificate File", required=False, allow_empty_file=True)


class RestoreForm(forms.Form):
    backup_file = forms.FileField(label="Keystore Backup File", required=False, allow_empty_file=True)
    password = forms.CharField(
        label="Backup Password",
        required=False,
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


# Confirmation forms of the delete and purge steps: the alias typed in, and for purge an explicit acknowledgement.
UNDERSTOOD = "I understand recordings encrypted for this certificate can no longer be played back"


class DeleteForm(forms.Form):
    alias = forms.CharField(
        label="Type the certificate's alias to confirm",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class PurgeForm(DeleteForm):
    understood = forms.BooleanField(
        label=UNDERSTOOD,
        required=True,
        error_messages={"required": f"Check “{UNDERSTOOD}” to purge."},
    )
