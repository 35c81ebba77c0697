"""Confirmation forms of the delete and purge steps: the alias typed in, and for purge an explicit acknowledgement."""

from django import forms

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
