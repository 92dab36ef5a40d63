"""The form fields that ask questions defined in ``intake/`` (the booking form's and the
questionnaire's), and the check of the questions that other answers make required. Both forms
build their fields here, so a question reads, checks and stores alike wherever it is asked."""

from __future__ import annotations

from wtforms import BooleanField, Field, Form

from ..intake.booking_questions import Question
from .fields import (
    MultiCheckboxField,
    QuickRadioField,
    QuickSelectField,
    line,
    required,
    text,
    with_placeholder,
)


def field_for(question: Question, radio: type = QuickRadioField) -> Field:
    """The field that asks one question. One always required gets its message as a validator;
    one asked, or required, only under a condition is checked by :func:`check_required`, which
    knows the other answers. ``radio`` is the class for a radio group (the questionnaire's may
    be left unanswered)."""
    always = question.required if question.required and not question.conditional else None
    validators = [required(always)] if always else []
    options = dict(question.choices)
    hint = question.hint or ""
    if question.kind == "line":
        return line(question.label, question.max_length, *validators, description=hint)
    if question.kind == "text":
        return text(question.label, question.max_length, *validators, description=hint)
    kwargs: dict[str, object] = {"description": hint, "validators": validators}
    if question.kind == "select":
        return QuickSelectField(question.label, choices=with_placeholder(options), **kwargs)
    if question.kind == "radio":
        if radio is QuickRadioField:  # a conditional answer is checked only when asked
            kwargs["validate_choice"] = not question.conditional
        return radio(question.label, choices=options, **kwargs)
    if question.kind == "checkboxes":
        return MultiCheckboxField(question.label, choices=options, **kwargs)
    if question.kind == "box":
        return BooleanField(question.label, **kwargs)
    raise ValueError(f"no field for a question of kind {question.kind!r}")


def check_required(form: Form, questions: tuple[Question, ...]) -> bool:
    """After the fields' own checks: give each question that the other answers make required,
    and that is not answered, its message. True when none is missing."""
    answers = {name: field.data for name, field in form._fields.items()}
    valid = True
    for question in questions:
        field = form[question.name]
        if field.errors or not question.needs_answer(answers):
            continue
        answered = field.data not in (None, "", [], False)
        if question.kind == "radio":
            answered = field.data in dict(question.choices)
        if not answered:
            field.errors = [*field.errors, question.required]
            valid = False
    return valid
