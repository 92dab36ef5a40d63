"""The booking form's intake questions, defined once: what each asks, its answers, whether it is
required and when it is asked at all, and where its answer is kept.

The booking form builds its intake fields from this list, the patient's data download reads
its questions from it, and a rule such as "the insurer is asked only when insurance pays" is
written here once, for the form's check and for what is stored (a question that was not asked
is not kept). Every answer here is health data: it lives in the ``intake`` table, encrypted
when it is free text, plain when it is a category staff filter on.

A question with a ``section`` is handled from this definition alone: its ``Intake`` column is
made from ``stored_as``, the form shows it at the end of its section, the booking stores it,
the staff page, the CSV (unless free text), the data download and a new booking from a
cancelled one show it. Adding such a question is an entry here and a migration that adds its
column (docs/architecture.md). The questions without a section are older ones, placed by hand
in the templates and read by name in the code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..core.crypto import EncryptedText
from . import choices

Answers = Mapping[str, Any]


def _ticked(name: str, *codes: str) -> Callable[[Answers], bool]:
    return lambda answers: bool(set(answers.get(name) or ()) & set(codes))


def insured(answers: Answers) -> bool:
    """Private or employer insurance is among the ways treatment would be paid for."""
    return bool(set(answers.get("payment_routes") or ()) & choices.INSURED_ROUTES)


def booked_by_relative(answers: Answers) -> bool:
    return answers.get("booked_by") == "caregiver"


def names_the_cancer(answers: Answers) -> bool:
    return answers.get("cancer_type") in choices.CANCER_TYPES_WITH_NAME


@dataclass(frozen=True)
class Question:
    name: str  # the form field's name and the ``Intake`` column's
    label: str
    kind: str  # line | text | select | radio | checkboxes | box
    choices: tuple[tuple[str, str], ...] = ()
    # What to say when it is asked, required, and left empty (None: optional).
    required: str | None = None
    # When the question is asked at all (None: always); an answer to a question that was not
    # asked is dropped, not stored.
    asked_when: Callable[[Answers], bool] | None = None
    # When a question that is always asked becomes required (None: whenever asked).
    required_when: Callable[[Answers], bool] | None = None
    max_length: int | None = None
    hint: str | None = None
    # How the answer is kept: ``text`` (encrypted), ``code`` or ``codes`` (plain, for filters;
    # ``codes`` comma-separated), ``flag`` (yes or no).
    stored_as: str = "code"
    # Where the details form shows it when the template does not place it by hand: diagnosis,
    # treatment, payment or questions (None: placed by hand, read by name).
    section: str | None = None
    # Answers an earlier version of the question offered, which stored answers may hold.
    earlier_choices: tuple[tuple[str, str], ...] = ()
    # For a conditional question with a section: ``asked_when`` as the form's script reads
    # it ("another_question=answer,answer"), so the page hides it while it is not asked.
    show_when: str | None = None
    # How a question that names "the patient" speaks to whoever answers it: to the patient
    # ("Are you ..."), and to a relative, naming the patient ("Is {patient} ..."). The label
    # stays the staff pages' wording.
    voices: tuple[str, str] | None = None

    def spoken(self, relative: bool, patient: str) -> str:
        """The question as it is asked of the patient, or of a relative about the patient."""
        if self.voices is None:
            return self.label
        to_patient, about_patient = self.voices
        return about_patient.format(patient=patient) if relative else to_patient

    @property
    def conditional(self) -> bool:
        """Asked, or required, only under a condition on other answers."""
        return self.asked_when is not None or self.required_when is not None

    def asked(self, answers: Answers) -> bool:
        return self.asked_when is None or self.asked_when(answers)

    def needs_answer(self, answers: Answers) -> bool:
        if self.required is None or not self.asked(answers):
            return False
        return self.required_when is None or self.required_when(answers)

    @property
    def staff_label(self) -> str:
        """The question as the staff pages head its answer."""
        return self.label.removesuffix(" (optional)")

    def stored(self, data: Any) -> Any:
        """An answer from the form as its column keeps it."""
        if self.stored_as == "codes":
            return ",".join(value for value, _ in self.choices if value in (data or ())) or None
        if self.stored_as == "flag":
            return bool(data)
        return data or None

    def for_form(self, value: Any) -> Any:
        """A kept answer as the form shows it again."""
        if self.stored_as == "codes":
            return [code for code in (value or "").split(",") if code]
        return value

    def column_type(self) -> sa.types.TypeEngine:
        if self.stored_as == "text":
            return EncryptedText()
        if self.stored_as == "flag":
            return sa.Boolean()
        return sa.String(200 if self.stored_as == "codes" else 20)

    def in_words(self, value: Any) -> Any:
        """A stored answer in the words the form showed beside it."""
        options = {**dict(self.earlier_choices), **dict(self.choices)}
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if isinstance(value, str) and self.kind == "checkboxes":
            return ", ".join(options.get(code, code) for code in value.split(",") if code)
        return options.get(value, value) if options else value


BOOKING_QUESTIONS: tuple[Question, ...] = (
    Question(
        "birth_date",
        "Patient's date of birth",
        "line",
        required="Enter the patient's date of birth.",
        max_length=20,
        hint="Day/month/year, for example 15/08/1962 (on a number pad: 15081962). If the "
        "exact date is not known, the year of birth (1952) or the age (74) is fine. The "
        "consultant needs the patient's age.",
    ),
    Question(
        "therapy",
        "Which treatment are you asking about?",
        "radio",
        tuple(choices.THERAPIES),
        required="Choose the treatment you are asking about, or 'Not sure'.",
        hint="Not sure is a fine answer: the consultant will explain both.",
    ),
    Question(
        "cancer_type",
        "Type of cancer",
        "select",
        tuple(choices.CANCER_TYPES),
        required="Choose the type of cancer, or 'Not sure / other'.",
    ),
    Question(
        "cancer_type_other",
        "Which cancer? (if you know)",
        "line",
        asked_when=names_the_cancer,
        max_length=200,
        hint="Only for 'Other' and 'Not sure'.",
    ),
    Question(
        "stage",
        "Stage",
        "select",
        tuple(choices.STAGES),
        required="Choose the stage, 'Not staged / not sure', or 'Does not apply'.",
    ),
    Question(
        "diagnosed",
        "When was it diagnosed?",
        "select",
        tuple(choices.DIAGNOSED),
        required="Choose when it was diagnosed, or 'Not sure'.",
    ),
    Question(
        "knows_diagnosis",
        "Does the patient know the diagnosis?",
        "radio",
        tuple(choices.KNOWS_DIAGNOSIS),
        asked_when=booked_by_relative,
        section="diagnosis",
        show_when="booked_by=caregiver",
        hint="Only if you are booking for someone else. If not, or only partly, the patient's "
        "own messages say nothing about the illness, and the consultant speaks with you first.",
    ),
    Question(
        "speaks_first",
        "Who should speak with the patient about the diagnosis first?",
        "radio",
        tuple(choices.SPEAKS_FIRST),
        asked_when=lambda answers: (
            booked_by_relative(answers)
            and answers.get("knows_diagnosis") in ("partly", "no", "not_sure")
        ),
        section="diagnosis",
        show_when="knows_diagnosis=partly,no,not_sure",
        hint="Only if the patient does not fully know. The consultant reads this before the call.",
    ),
    Question(
        "diagnosis_details",
        "Anything else about the diagnosis (optional)",
        "text",
        max_length=2000,
    ),
    Question(
        "treatments",
        "Current treatment (choose all that apply)",
        "checkboxes",
        tuple(choices.TREATMENTS),
        hint="Include medicines from Ayurveda, homeopathy or herbs: some of them matter for "
        "cancer treatment.",
    ),
    Question(
        "treatment_details",
        "Treatment details",
        "text",
        required="Tell us which other treatment.",
        required_when=_ticked("treatments", "other"),
        max_length=2000,
        hint="Needed if you chose 'Other'; optional otherwise (medicines, doses, when it started).",
    ),
    Question(
        "treating_hospital",
        "Treating hospital or oncologist (optional)",
        "line",
        max_length=200,
        stored_as="text",
        section="treatment",
    ),
    Question(
        "payment_routes",
        "How would treatment be paid for? (choose all that apply)",
        "checkboxes",
        tuple(choices.PAYMENT_ROUTES),
        hint="Insurance and government schemes usually pay only for standard treatments, at "
        "hospitals on their list: our staff will check what applies to you.",
    ),
    Question(
        "state_scheme",
        "Which state scheme?",
        "line",
        required="Tell us the name of the state scheme, or 'not sure'.",
        asked_when=_ticked("payment_routes", "state_scheme"),
        max_length=120,
        hint="Only for a state scheme. For example: Mahatma Jyotiba Phule Jan Arogya Yojana, "
        "Aarogyasri. Write 'not sure' if you do not know.",
    ),
    Question(
        "insurer",
        "Insurance company",
        "line",
        required="Enter the name of the insurance company.",
        asked_when=insured,
        max_length=120,
    ),
    Question(
        "tpa",
        "TPA named on the health card (optional)",
        "line",
        asked_when=insured,
        max_length=120,
        hint="The Third Party Administrator printed on the health card, for example Medi Assist "
        "or Paramount. Leave empty if there is none or you are not sure.",
    ),
    Question(
        "policy_holder",
        "Policy holder, if not the patient (optional)",
        "line",
        asked_when=insured,
        max_length=120,
    ),
    Question(
        "card_holder",
        "Whose card or policy is it?",
        "radio",
        tuple(choices.CARD_HOLDERS),
        required="Tell us whose card or policy it is, or choose 'Not sure'.",
        asked_when=_ticked("payment_routes", *sorted(choices.CARD_ROUTES)),
        section="payment",
        show_when="payment_routes=" + ",".join(sorted(choices.CARD_ROUTES)),
        hint="Only for insurance or a scheme card. Many cards also cover the holder's family: "
        "a father's CGHS card, an ex-serviceman husband's ECHS card.",
    ),
    Question(
        "policy_after_diagnosis",
        "Was the policy bought after the cancer was diagnosed?",
        "radio",
        tuple(choices.YES_NO_UNSURE),
        required="Tell us whether the policy was bought after the diagnosis.",
        asked_when=insured,
        hint="Some policies do not pay for an illness known when they were bought; the "
        "insurance desk will check.",
    ),
    Question(
        "cost_help",
        "We need help with the costs of treatment",
        "box",
        hint="Tick this and our staff will talk with you about costs, schemes and financial aid.",
    ),
    Question(
        "red_flags",
        "Safety check",
        "checkboxes",
        tuple(choices.RED_FLAGS),
        earlier_choices=tuple(choices.RED_FLAGS_EARLIER),
    ),
    Question(
        "own_questions",
        "Your questions for the consult (optional)",
        "text",
        max_length=3000,
        hint="We add them to the question list we send you before the consult.",
    ),
)

BY_NAME = {question.name: question for question in BOOKING_QUESTIONS}
# The questions handled from their definition alone (see the module's docstring).
DEFINED_ONLY = tuple(question for question in BOOKING_QUESTIONS if question.section)


def stored_answers(answers: Answers) -> dict[str, Any]:
    """The form's answers to the questions handled from their definition alone, as their
    columns keep them; a question that was not asked keeps nothing."""
    return {
        question.name: question.stored(answers.get(question.name))
        if question.asked(answers)
        else None
        for question in DEFINED_ONLY
    }


def answers_in_words(intake: Any) -> list[tuple[str, Any]]:
    """Those questions and their kept answers, in staff's words."""
    return [
        (question.staff_label, question.in_words(getattr(intake, question.name)))
        for question in DEFINED_ONLY
    ]


# Intake columns the form does not ask in these words: worked out from other answers, or asked
# by an earlier form and still stored for bookings made then.
NOT_ASKED = {
    "has_insurance": "Private or employer insurance (worked out from the payment answers)",
    "policy_number": "Policy number",
    "preauthorisation": "Pre-authorisation needed",
}


def label_and_words(name: str, value: Any) -> tuple[str, Any]:
    """An intake column's question and its stored answer, as the patient was asked them."""
    question = BY_NAME.get(name)
    if question is None:
        return NOT_ASKED.get(name, name), value
    return question.label, question.in_words(value)
