"""Forms of the staff pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Form,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..appointments.listing import PAGE_SIZES
from ..core.statuses import AppointmentStatus, StaffRole
from ..intake import choices
from ..web.booking_form import checked_email
from ..web.fields import clean_line, clean_text

ROLES = {StaffRole.STAFF: "Staff", StaffRole.ADMIN: "Admin"}


class SignInForm(FlaskForm):
    email = EmailField("Email", [DataRequired(), Length(max=254)], filters=[clean_line])
    password = PasswordField("Password", [DataRequired(), Length(max=200)])


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        [DataRequired(message="Enter the code."), Length(max=40)],
        filters=[clean_line],
    )


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", [DataRequired(), Length(max=200)])
    new = PasswordField("New password", [DataRequired(), Length(max=200)])
    confirm = PasswordField(
        "New password again", [DataRequired(), EqualTo("new", message="The two do not match.")]
    )


class StatusForm(FlaskForm):
    status = SelectField(
        "Outcome",
        choices={
            AppointmentStatus.COMPLETED: "Completed",
            AppointmentStatus.NO_SHOW: "No-show",
            AppointmentStatus.CONFIRMED: "Not recorded yet",
        },
    )


class StaffCancelForm(FlaskForm):
    category = RadioField(
        "The patient's email says it is cancelled because",
        choices=dict(choices.CANCEL_CATEGORIES),
        validators=[DataRequired(message="Choose what the patient's email should say.")],
    )
    reason = TextAreaField(
        "Note for the clinic (the patient is not shown it)",
        [Optional(), Length(max=500)],
        filters=[clean_text],
    )


def _any(options) -> dict[str, str]:
    return {"": "Any", **dict(options)}


class ListFilterForm(Form):
    """The appointment list's filter bar: a GET form (no CSRF, it changes nothing), read from
    the query string so that a filtered list is a link staff can keep or share. Every select
    has a default: a filter missing from the link means "any", not a wrong choice."""

    q = StringField(
        "Search",
        [Length(max=100)],
        filters=[clean_line],
        render_kw={"placeholder": "Reference, name, part of an email or 4+ digits of a phone"},
    )
    status = SelectField(
        "Status", choices=_any((s, s.replace("_", "-")) for s in AppointmentStatus), default=""
    )
    date_from = DateField("From", [Optional()])
    date_to = DateField("Until", [Optional()])

    def _plausible(self, field):
        if field.data and not 2000 <= field.data.year <= 2100:
            raise ValidationError("Use a date between 2000 and 2100.")

    validate_date_from = validate_date_to = _plausible
    consultant_id = SelectField("Consultant", choices={"": "Any"}, default="")
    cancer_type = SelectField("Cancer type", choices=_any(choices.CANCER_TYPES), default="")
    has_insurance = SelectField("Insurance", choices=_any(choices.YES_NO_UNSURE), default="")
    urgent = SelectField(
        "Urgent", choices={"": "Any", "yes": "Urgent only", "no": "Not urgent"}, default=""
    )
    questionnaire = SelectField(
        "Questionnaire",
        choices={
            "": "Any",
            "not_done_soon": "Not done, consult within 3 days",
            "not_yet": "Not yet",
            "started": "Started",
            "done": "Done",
        },
        default="",
    )
    per_page = SelectField(
        "Per page", choices={str(n): str(n) for n in PAGE_SIZES}, default=str(PAGE_SIZES[0])
    )


class CallBackForm(FlaskForm):
    outcome = RadioField(
        "How did the call go?",
        choices=dict(choices.CALL_BACK_OUTCOMES),
        validators=[DataRequired(message="Choose how the call went.")],
    )
    note = TextAreaField(
        "Note (what was advised; stored encrypted)",
        [Length(max=2000)],
        filters=[clean_text],
    )


def _consultant_id(value) -> int | None:
    """The select's value; its first option, "Choose a consultant", is empty."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ReassignForm(FlaskForm):
    """Another consultant at the same time. Nothing is chosen for staff, and a second step
    names the change before it is made."""

    consultant_id = SelectField("Reassign to", coerce=_consultant_id, validate_choice=False)

    def validate_consultant_id(self, field):
        if field.data is None:
            raise ValidationError("Choose the consultant to reassign the consult to.")


class NoteForm(FlaskForm):
    text = TextAreaField(
        "Add a note",
        [DataRequired(message="Write the note first."), Length(max=2000)],
        filters=[clean_text],
    )


class TimeOffForm(FlaskForm):
    consultant_id = SelectField("Who", coerce=int, validate_choice=False)
    start_date = DateField("From (date)", [DataRequired(message="Give a start date.")])
    start_time = TimeField("From (time)", [Optional()])
    end_date = DateField("Until (date)", [DataRequired(message="Give an end date.")])
    end_time = TimeField("Until (time)", [Optional()])
    reason = StringField("Reason", [Length(max=200)], filters=[clean_line])


class QuestionForm(FlaskForm):
    text = TextAreaField(
        "Question",
        [DataRequired(message="Write the question."), Length(max=500)],
        filters=[clean_line],
    )
    # Defaults: a select missing from a post means "for everyone", not a wrong choice.
    cancer_type = SelectField(
        "Only for cancer type", choices={"": "Everyone", **dict(choices.CANCER_TYPES)}, default=""
    )
    therapy = SelectField(
        "Only for patients asking about",
        choices={"": "Either therapy", **dict(choices.THERAPIES[:2])},
        default="",
    )
    treatment = SelectField(
        "Only for treatment",
        choices={"": "Any treatment", **dict(choices.TREATMENTS)},
        default="",
    )
    younger_than = IntegerField(
        "Only for patients younger than (years)",
        [Optional(), NumberRange(min=1, max=120, message="Enter an age from 1 to 120.")],
        description="Leave empty for every age. A patient whose age is not known gets it.",
    )
    position = IntegerField("Order", [Optional(), NumberRange(min=0, max=100000)])
    active = BooleanField("Active", default=True)


class MoveQuestionForm(FlaskForm):
    direction = HiddenField()


class AccountForm(FlaskForm):
    email = EmailField("Email", [DataRequired(), Length(max=254)], filters=[clean_line])
    name = StringField("Name", [DataRequired(), Length(max=120)], filters=[clean_line])
    role = SelectField("Role", choices=ROLES)
    is_consultant = BooleanField("Takes consults")
    is_clinician = BooleanField("Clinician (approves clinical text)")

    def validate_email(self, field):
        # Sign-in, resets and staff emails go to it: a typo would lock the colleague out.
        field.data = checked_email(field.data).lower()


class AccountEditForm(FlaskForm):
    role = SelectField("Role", choices=ROLES)
    is_consultant = BooleanField("Takes consults")
    is_clinician = BooleanField("Clinician (approves clinical text)")
    active = BooleanField("Active")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class ModeForm(FlaskForm):
    consult_mode = SelectField("How the consult happens", choices=dict(choices.CONSULT_MODES))


class VideoLinkForm(FlaskForm):
    link = StringField("New meeting link", [Length(max=500)], filters=[clean_line])

    def validate_link(self, field):
        from ..appointments.video import valid_meeting_link

        if not valid_meeting_link(field.data or ""):
            raise ValidationError("Enter the meeting's full address, starting with https://")
