"""Form parts the filter forms share."""

from collections.abc import Iterator

from django import forms
from django.utils.choices import BaseChoiceIterator


class DateInput(forms.DateInput):
    input_type = "date"


class ReadyChoices(BaseChoiceIterator):
    """(value, label) pairs taken as they are. A list is normalized by the field and again by its widget, each
    walking every choice: with a hundred tenants, that cost about as much as writing the select."""

    def __init__(self, choices: list[tuple[str, str]]) -> None:
        self.choices = choices

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.choices)
