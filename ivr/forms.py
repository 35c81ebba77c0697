"""Forms of the IVR profile pages. Certificate choices are always the current tenant's active certificates, so an id
from another tenant is simply not a valid choice."""

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models.functions import Lower

from certificates.models import Certificate
from portal.accounts.models import Tenant
from portal.web.forms import refuse_invisible, refuse_invisible_in_lines

from .models import IvrProfile
from .services import COMMENT_MAX

DBID_MAX = 2_147_483_647  # Configuration Server DBIDs are 32-bit


class IvrProfileForm(forms.ModelForm):
    class Meta:
        model = IvrProfile
        fields = ["name", "dbid", "description"]
        labels = {"name": "Name", "dbid": "DBID", "description": "Description"}
        help_texts = {
            "name": "As in the Configuration Server, e.g. record.",
            "dbid": "The profile's DBID in the Configuration Server; Resource Manager sends it with each recording.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        dbid = self.fields["dbid"]
        assert isinstance(dbid, forms.IntegerField)
        dbid.min_value, dbid.max_value = 1, DBID_MAX
        dbid.validators += [MinValueValidator(1), MaxValueValidator(DBID_MAX)]
        dbid.widget.attrs.update({"min": 1, "max": DBID_MAX})
        # The name is written into the Annex section's header and shown on every page about the profile.
        self.fields["name"].validators.append(refuse_invisible)
        self.fields["description"].validators.append(refuse_invisible_in_lines)

    def _others(self) -> Any:
        others = IvrProfile.objects.filter(tenant=self.tenant)
        return others.exclude(pk=self.instance.pk) if self.instance.pk else others

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise forms.ValidationError("Enter the profile's name.")
        if self._others().filter(name__iexact=name).exists():
            raise forms.ValidationError(f"This tenant already has an IVR profile named '{name}'.")
        return name

    def clean_dbid(self) -> int:
        dbid = int(self.cleaned_data["dbid"])
        other = self._others().filter(dbid=dbid).first()
        if other is not None:
            raise forms.ValidationError(f"DBID {dbid} is already the IVR profile '{other.name}' of this tenant.")
        return dbid


class CertificateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.alias} — {obj.subject_name}, serial {obj.serial_number} ({obj.current_status_label})"


def _choices(tenant: Tenant, profile: IvrProfile) -> Any:
    """The tenant's active certificates not yet on the profile. Expired or untrusted ones are listed too, so that
    choosing one says why it cannot be used, rather than leaving people wondering where it went."""
    return (
        Certificate.objects.filter(tenant=tenant)
        .active()
        .exclude(ivr_assignments__profile=profile)
        .select_related("entry")
        .order_by(Lower("entry__alias"))
    )


class AssignForm(forms.Form):
    certificate = CertificateChoiceField(
        queryset=Certificate.objects.none(), label="Certificate", empty_label="Choose…"
    )

    def __init__(self, *args: Any, tenant: Tenant, profile: IvrProfile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["certificate"].queryset = _choices(tenant, profile)  # type: ignore[attr-defined]
        self.fields["certificate"].error_messages["invalid_choice"] = (
            "That certificate is not one of this tenant's active certificates, or it is already assigned."
        )


class RequestForm(AssignForm):
    comment = forms.CharField(
        label="Comment for the Genesys professional",
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[refuse_invisible_in_lines],
    )


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=COMMENT_MAX,
        validators=[refuse_invisible_in_lines],
        error_messages={"max_length": f"The comment is longer than {COMMENT_MAX} characters."},
    )
