from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

# A browser's choice of several files, or one zip archive of them; Django itself refuses more than
# DATA_UPLOAD_MAX_NUMBER_FILES (100) in one request.
ACCEPTED = ".bin,.zip,.p7m,.p7,.pem,.cms,.smime,application/pkcs7-mime,application/zip"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        clean_one = super().clean  # bound here: a comprehension has no zero-argument super()
        files = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if not files:
            return [clean_one(None, initial)]  # the field's "required" message
        return [clean_one(item, initial) for item in files]


class DecryptForm(forms.Form):
    recordings = MultipleFileField(
        label="Recordings",
        help_text="One or more encrypted recordings (PKCS#7, e.g. .bin files), or a .zip archive of them.",
        widget=MultipleFileInput(attrs={"accept": ACCEPTED}),
        error_messages={"required": "Choose one or more recording files, or a .zip archive of them."},
    )
