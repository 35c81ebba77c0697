"""Form parts the forms share: the filters' inputs and choices, and the check on typed text."""

from collections.abc import Iterator

from django import forms
from django.utils.choices import BaseChoiceIterator

from .text import INVISIBLE_IN_LINES_MESSAGE, INVISIBLE_MESSAGE, has_invisible


def refuse_invisible(value: str) -> None:
    """A validator for one-line text (a name): no control character, line break or text-direction character."""
    if has_invisible(value):
        raise forms.ValidationError(INVISIBLE_MESSAGE, code="invisible")


def refuse_invisible_in_lines(value: str) -> None:
    """A validator for text of several lines (a description, a comment): line breaks and tabs, nothing else unseen."""
    if has_invisible(value, lines=True):
        raise forms.ValidationError(INVISIBLE_IN_LINES_MESSAGE, code="invisible")


class DateInput(forms.DateInput):
    input_type = "date"


class ReadyChoices(BaseChoiceIterator):
    """(value, label) pairs taken as they are. A list is normalized by the field and again by its widget, each
    walking every choice: with a hundred tenants, that cost about as much as writing the select."""

    def __init__(self, choices: list[tuple[str, str]]) -> None:
        self.choices = choices

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.choices)
