"""The fixed answer lists of the intake, shared by forms, models, emails and the question list.

Values are stored; labels are shown. Categorical answers stay plain in the database (staff filter
on them); free text is encrypted (see ``crypto.py``).
"""

from collections.abc import Sequence

from .statuses import AppointmentStatus, CallBackOutcome

BOOKED_BY = [
    ("self", "I am the patient"),
    ("caregiver", "I am booking for someone else"),
]

CHANNELS = [
    ("email", "Email"),
    ("phone", "Phone call"),
    ("whatsapp", "WhatsApp"),
]

CANCER_TYPES = [
    ("melanoma", "Melanoma"),
    ("renal_cell", "Renal cell carcinoma (kidney cancer)"),
    ("leukaemia", "Leukaemia"),
    ("lymphoma", "Lymphoma"),
    ("other_solid", "Other solid tumour"),
    ("other_blood", "Other blood cancer"),
    ("other", "Not sure / other"),
]
CANCER_TYPES_WITH_NAME = {"other_solid", "other_blood", "other"}

STAGES = [
    ("1", "Stage I"),
    ("2", "Stage II"),
    ("3", "Stage III"),
    ("4", "Stage IV"),
    ("unknown", "Not staged / not sure"),
]

DIAGNOSED = [
    ("lt3m", "In the last 3 months"),
    ("3to12m", "3 to 12 months ago"),
    ("1to5y", "1 to 5 years ago"),
    ("gt5y", "More than 5 years ago"),
    ("unknown", "Not sure"),
]

TREATMENTS = [
    ("none", "No treatment at the moment"),
    ("chemotherapy", "Chemotherapy"),
    ("radiation", "Radiation therapy"),
    ("surgery", "Surgery"),
    ("immunotherapy", "Immunotherapy / checkpoint inhibitors"),
    ("targeted", "Targeted therapy"),
    ("interferon", "Cytokine therapy: interferon"),
    ("interleukin2", "Cytokine therapy: interleukin-2"),
    ("other", "Other"),
]

YES_NO_UNSURE = [
    ("yes", "Yes"),
    ("no", "No"),
    ("not_sure", "Not sure"),
]

CONSULT_MODES = [
    ("phone", "Phone call"),
    ("video", "Video call"),
    ("whatsapp", "WhatsApp call"),
]

# How each consult mode happens, in the words used in emails and the calendar entry.
CONSULT_MODE_HOW = {
    "phone": "We will call you on {phone} at the time of your consult.",
    "video": "We will email you a video link before your consult.",
    "whatsapp": "We will call you on WhatsApp at {phone} at the time of your consult.",
}

# The red-flag checklist. Ticking any box makes the booking urgent: staff call back, and the
# patient is told at once what to do. The wording needs a clinician's review (see README).
RED_FLAGS_EMERGENCY = [
    ("chest_pain", "Chest pain"),
    ("breathing", "Severe difficulty breathing"),
    ("collapse", "Fainting, a fit, or very hard to wake"),
    ("bleeding", "Heavy bleeding or vomiting blood"),
    ("stroke", "Sudden weakness of the face, arm or leg, or trouble speaking"),
]
RED_FLAGS_TODAY = [
    ("fever", "Temperature of 38 °C (100.4 °F) or higher, or shivering"),
    ("confusion", "New confusion"),
    ("spine", "New back pain with weak or numb legs, or loss of bladder or bowel control"),
    ("vomiting", "Vomiting or diarrhoea that will not stop"),
    ("kidney", "Much less urine than usual, or sudden swelling or weight gain"),
    ("jaundice", "Yellow skin or yellow eyes"),
    ("self_harm", "Feeling very low, or thoughts of self-harm"),
]
NO_RED_FLAGS = "none"
RED_FLAGS = [*RED_FLAGS_EMERGENCY, *RED_FLAGS_TODAY, (NO_RED_FLAGS, "None of these")]

CALL_BACK_OUTCOMES = [
    (CallBackOutcome.REACHED, "Reached and advised"),
    (CallBackOutcome.EMERGENCY, "Sent to emergency"),
    (CallBackOutcome.NO_ANSWER, "Could not reach, try again"),
]

STATUSES = list(AppointmentStatus)


def label(choices: Sequence[tuple[str, str]], value: str | None) -> str:
    """The label shown for a stored value; an unknown value is shown as it is."""
    return dict(choices).get(value or "", value or "")
