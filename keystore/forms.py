from typing import Any

from django import forms
from django.views.decorators.debug import sensitive_variables

from .backup import MIN_EXPORT_PASSWORD_LENGTH

REAUTH_ERROR = "Your password is not correct."


def _password(label: str, autocomplete: str, help_text: str = "", required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        required=required,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


class ReauthForm(forms.Form):
    """Re-enter the signed-in user's password before a private key leaves the keystore."""

    your_password = _password("Your password", "current-password", "The password you sign in with.")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    @sensitive_variables("password")
    def clean_your_password(self) -> str:
        password = self.cleaned_data["your_password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(REAUTH_ERROR, code="reauth")
        return str(password)

    @property
    def reauth_failed(self) -> bool:
        return self.has_error("your_password", code="reauth")


def _check_new_password(form: forms.Form, field: str, confirm: str, name: str) -> None:
    password, again = form.cleaned_data.get(field), form.cleaned_data.get(confirm)
    if password and len(password) < MIN_EXPORT_PASSWORD_LENGTH:
        form.add_error(field, f"The {name} must be at least {MIN_EXPORT_PASSWORD_LENGTH} characters long.")
    elif password and again is not None and password != again:
        form.add_error(confirm, f"The two {name}s do not match.")


class BackupForm(ReauthForm):
    backup_password = _password(
        "Backup password",
        "new-password",
        f"At least {MIN_EXPORT_PASSWORD_LENGTH} characters. Keep it with the backup's other secrets: without it the "
        "file cannot be opened.",
    )
    backup_password_confirm = _password("Confirm backup password", "new-password")

    @sensitive_variables("password", "again")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _check_new_password(self, "backup_password", "backup_password_confirm", "backup password")
        return cleaned


class KeyDownloadForm(ReauthForm):
    UNENCRYPTED = "pkcs8"
    ENCRYPTED = "pkcs8-encrypted"

    key_format = forms.ChoiceField(
        label="Format",
        choices=[(UNENCRYPTED, "Unencrypted PKCS#8 (private.pem)"), (ENCRYPTED, "Encrypted PKCS#8")],
        initial=UNENCRYPTED,
        widget=forms.RadioSelect,
    )
    key_password = _password(
        "Key password",
        "new-password",
        f"For Encrypted PKCS#8 only: at least {MIN_EXPORT_PASSWORD_LENGTH} characters.",
        required=False,
    )
    key_password_confirm = _password("Confirm key password", "new-password", required=False)

    @sensitive_variables("password", "again")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("key_format") == self.ENCRYPTED:
            if not cleaned.get("key_password"):
                self.add_error("key_password", "Enter a password to encrypt the key with.")
            else:
                _check_new_password(self, "key_password", "key_password_confirm", "key password")
        return cleaned
