from django import forms

from portal.web.forms import refuse_invisible

from .models import Period


class CredentialForm(forms.Form):
    label = forms.CharField(
        label="Label",
        max_length=100,
        required=False,
        validators=[refuse_invisible],
        help_text="Optional: what the credential is for, e.g. Genesys Cloud production.",
    )


class ScheduleForm(forms.Form):
    period = forms.ChoiceField(label="Rotation", choices=Period.choices)
