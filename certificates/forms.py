"""The upload, new key, root CA and restore forms. They only carry input: every check is in the services."""

from collections.abc import Sequence
from typing import Any, cast

from django import forms

from keystore.api import ALIAS_TOO_LONG, GENERATED_RSA_BITS, MAX_ALIAS_LENGTH

from .generation import DAYS, DEFAULT_BITS, DEFAULT_DAYS, MAX_DAYS, MIN_DAYS
from .subject import DN_FIELDS


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


# --- A new key: Generate, Request from a CA, Renew ----------------------------------------------------------------
# Every field is carried as typed; generation.check_new_key says what is wrong, one message per field.

FOLLOW_UPS = "follow_ups"
BITS_CHOICES = [(str(bits), f"RSA {bits} bits") for bits in GENERATED_RSA_BITS]


class NewKeyForm(forms.Form):
    """The subject, validity, key size and alias of a new key. ``with_days=False`` for a CSR, whose validity the CA
    decides; ``follow_ups`` (name, label) adds the renewal's follow-up checkboxes."""

    days = forms.CharField(
        label="Validity (days)",
        required=False,
        initial=str(DEFAULT_DAYS),
        widget=forms.NumberInput(attrs={"min": MIN_DAYS, "max": MAX_DAYS, "step": 1}),
        help_text=f"From {MIN_DAYS} to {MAX_DAYS:,} days ({MAX_DAYS // 365} years).",
    )
    bits = forms.CharField(
        label="Key size", required=False, initial=str(DEFAULT_BITS), widget=forms.Select(choices=BITS_CHOICES)
    )
    alias = forms.CharField(
        label="Alias",
        required=False,
        max_length=MAX_ALIAS_LENGTH,
        error_messages={"max_length": ALIAS_TOO_LONG},
        help_text="Optional: proposed from the Common Name when left empty; unique in this tenant.",
    )
    follow_ups = forms.MultipleChoiceField(label="Then", required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(
        self, *args: Any, with_days: bool = True, follow_ups: Sequence[tuple[str, str]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        subject = {
            dn.key: forms.CharField(
                label=dn.label,
                required=False,
                widget=forms.TextInput(attrs={"placeholder": dn.hint, "autocomplete": "off"}),
            )
            for dn in DN_FIELDS
        }
        self.fields = {**subject, **self.fields}
        if not with_days:
            del self.fields[DAYS]
        if follow_ups:
            cast(forms.MultipleChoiceField, self.fields[FOLLOW_UPS]).choices = list(follow_ups)
        else:
            del self.fields[FOLLOW_UPS]

    def subject(self) -> dict[str, str]:
        return {dn.key: self.cleaned_data.get(dn.key) or "" for dn in DN_FIELDS}


class ReplyForm(forms.Form):
    """The CA's certificate for a key waiting here; ``waiting`` is the page it was sent from."""

    certificate_file = forms.FileField(label="CA's certificate", required=False, allow_empty_file=True)
    waiting = forms.UUIDField(required=False, widget=forms.HiddenInput)
