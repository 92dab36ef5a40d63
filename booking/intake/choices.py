"""The fixed answer lists of the intake, shared by forms, models, emails and the question list.

Values are stored; labels are shown. Categorical answers stay plain in the database (staff filter
on them); free text is encrypted (see ``core/crypto.py``).
"""

from collections.abc import Sequence

from ..core.statuses import AppointmentStatus, CallBackOutcome

BOOKED_BY = [
    ("self", "I am the patient"),
    ("caregiver", "I am booking for someone else"),
]

CHANNELS = [
    ("email", "Email"),
    ("phone", "Phone call"),
    ("whatsapp", "WhatsApp"),
    ("sms", "SMS (text message)"),
]

# The seed page's types first, with the subtypes that change the answer (interferon is used
# differently in CML and hairy-cell leukaemia; IL-2 for kidney cancer means the clear-cell
# type), then the cancers most common in India. The general codes ("leukaemia", "lymphoma",
# "renal_cell") also mean "another or not sure which subtype".
CANCER_TYPES = [
    ("melanoma", "Melanoma (skin cancer)"),
    ("renal_clear_cell", "Kidney cancer: clear-cell renal cell carcinoma"),
    ("renal_cell", "Kidney cancer: another type, or not sure which"),
    ("cml", "Chronic myeloid leukaemia (CML)"),
    ("hairy_cell", "Hairy-cell leukaemia"),
    ("leukaemia", "Leukaemia: another type, or not sure which"),
    (
        "mpn",
        "Myeloproliferative neoplasm (polycythaemia vera, essential thrombocythaemia, "
        "myelofibrosis)",
    ),
    ("hodgkin", "Hodgkin lymphoma"),
    ("non_hodgkin", "Non-Hodgkin lymphoma"),
    ("ctcl", "Cutaneous T-cell lymphoma (mycosis fungoides, Sézary syndrome)"),
    ("lymphoma", "Lymphoma: not sure which type"),
    ("breast", "Breast cancer"),
    ("head_neck", "Mouth, throat or other head and neck cancer"),
    ("cervix", "Cervical cancer (cancer of the cervix)"),
    ("lung", "Lung cancer"),
    ("bladder", "Bladder cancer"),
    ("other_solid", "Other solid tumour"),
    ("other_blood", "Other blood cancer"),
    ("other", "Not sure / other"),
]
CANCER_TYPES_WITH_NAME = {"other_solid", "other_blood", "other"}

# A subtype also gets the questions written for its family: a question for "leukaemia" reaches
# CML and hairy-cell leukaemia too.
CANCER_FAMILY = {
    "renal_clear_cell": "renal_cell",
    "cml": "leukaemia",
    "hairy_cell": "leukaemia",
    "hodgkin": "lymphoma",
    "non_hodgkin": "lymphoma",
    "ctcl": "lymphoma",
}

# Which cytokine treatment the patient asks about. The pre-visit questions are keyed on this,
# not on what the patient takes today (most patients have never had either).
THERAPIES = [
    ("interleukin2", "Interleukin-2 (IL-2, aldesleukin)"),
    ("interferon", "Interferon (interferon alfa)"),
    ("not_sure", "Not sure / either"),
]

# How treatment would be paid for, tick all that apply. Indian patients often combine routes
# (a government card and a family top-up), and "not sure" is a real, common answer.
PAYMENT_ROUTES = [
    ("private_insurance", "Private health insurance"),
    ("employer_insurance", "Health insurance through an employer"),
    ("pmjay", "Ayushman Bharat PM-JAY or Ayushman Vay Vandana card"),
    ("state_scheme", "A state government health scheme"),
    ("cghs", "CGHS (Central Government Health Scheme)"),
    ("echs", "ECHS (Ex-Servicemen Contributory Health Scheme)"),
    ("esic", "ESIC (Employees' State Insurance)"),
    ("employer_scheme", "Railways, PSU or another employer's medical scheme"),
    ("capf", "CAPF medical scheme (Central Armed Police Forces)"),
    ("state_employee", "A state government employees' scheme"),
    ("critical_illness", "A critical-illness policy that pays a lump sum"),
    (
        "relief_fund",
        "A relief fund or assistance programme: the Prime Minister's or Chief Minister's "
        "relief fund, Rashtriya Arogya Nidhi, an NGO, or a medicine maker's patient assistance",
    ),
    ("self_pay", "Self-pay or family"),
    ("not_sure", "Not sure, we need help with this"),
]
INSURED_ROUTES = {"private_insurance", "employer_insurance"}
# The routes whose card or policy often belongs to someone else in the family.
CARD_ROUTES = INSURED_ROUTES | {
    "pmjay",
    "cghs",
    "echs",
    "esic",
    "employer_scheme",
    "capf",
    "state_employee",
}
CARD_HOLDERS = [
    ("patient", "The patient's own"),
    ("spouse", "The husband's or wife's"),
    ("parent", "The father's or mother's"),
    ("child", "A son's or daughter's"),
    ("other_family", "Another family member's"),
    ("not_sure", "Not sure"),
]

# The patient's agreement when someone else books for them.
PATIENT_AGREES = [
    ("yes", "Yes"),
    ("not_yet", "Not yet"),
    ("cannot_decide", "The patient cannot decide for themselves"),
]

# When a relative books: does the patient know the diagnosis, and who should speak with them
# about it first. A patient who does not know gets messages that say nothing about the illness
# (messages/readers.py), and the consultant reads both answers before calling.
KNOWS_DIAGNOSIS = [
    ("yes", "Yes"),
    ("partly", "Partly"),
    ("no", "No, not yet"),
    ("not_sure", "Not sure"),
]
KNOWS_LITTLE = {"partly", "no"}
SPEAKS_FIRST = [
    ("family", "We, the family, first"),
    ("consultant_with_family", "The consultant, with one of us there"),
    ("consultant", "The consultant"),
    ("advice", "We would like advice about this"),
]

# Who gets the messages and calls about a consult a relative booked (statuses.Reader).
MESSAGES_TO = [
    ("relative", "Me"),
    ("patient", "The patient"),
    ("both", "Both of us"),
]

STAGES = [
    ("1", "Stage I"),
    ("2", "Stage II"),
    ("3", "Stage III"),
    ("4", "Stage IV"),
    ("unknown", "Not staged / not sure"),
    ("no_stage", "Does not apply (for example leukaemia or myeloma)"),
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
    ("surgery", "Recent surgery"),
    ("immunotherapy", "Immunotherapy / checkpoint inhibitors"),
    ("targeted", "Targeted therapy"),
    ("hormone", "Hormone therapy"),
    ("steroids", "Steroids (e.g. prednisolone, dexamethasone)"),
    ("transplant", "Stem-cell or organ transplant"),
    ("traditional", "Ayurveda, homeopathy or herbal medicine"),
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

# Why the clinic cancelled a consult, as the patient's email says it ("... because {label}").
# No clinical detail: the email may be read by anyone who sees the inbox.
CANCEL_CATEGORIES = [
    ("consultant_unavailable", "the consultant is unavailable at that time"),
    ("patient_request", "you asked us to"),
    ("clinic_closed", "the clinic is closed that day"),
    ("booked_twice", "the consult was booked twice"),
    ("other", "of a change at the clinic"),
]

# How each consult mode happens, in the words used in emails and the calendar entry.
CONSULT_MODE_HOW = {
    "phone": "We will call you on {phone} at the time of your consult.",
    "video": "Video call. At the time of your consult, open {link} on a phone or a computer "
    "with a camera and microphone (no account is needed).",
    "whatsapp": "We will call you on WhatsApp at {phone} at the time of your consult.",
}

# The red-flag checklist, "right now or in the last 24 hours". Ticking any box makes the
# booking urgent: staff call back, and the patient is told at once what to do. The wording
# needs a clinician's sign-off (docs/safety-and-clinical-content.md). Codes are kept when a
# symptom moves group (confusion, spine), so the answers of earlier bookings read as before.
RED_FLAGS_EMERGENCY = [
    ("chest_pain", "Chest pain or pressure"),
    ("breathing", "Severe breathlessness"),
    ("throat", "Swelling of the lips, tongue or throat"),
    ("collapse", "Fainting, a fit, or very hard to wake"),
    ("confusion", "New confusion"),
    ("bleeding", "Heavy bleeding or vomiting blood"),
    ("stroke", "Sudden weakness of the face, arm or leg, or trouble speaking"),
    ("spine", "New weakness or numbness of the legs, or new loss of bladder or bowel control"),
]
RED_FLAGS_CANCER_TEAM = [
    (
        "fever",
        "A temperature of 38 °C (100.4 °F) or more, or shivery, clammy or suddenly very unwell "
        "even with a normal temperature",
    ),
    ("breathless", "New or worse breathlessness or cough"),
    ("diarrhoea", "Diarrhoea 4 or more times a day above usual, blood in the stool, or belly pain"),
    ("fluids", "Cannot keep fluids down"),
    ("oozing", "Bleeding that will not stop, black stools, blood in the urine, or new bruises"),
    ("back_pain", "New or worse back pain"),
    ("kidney", "Much less urine than usual, or sudden swelling or weight gain"),
    ("clot", "Swelling of the face, neck or arm, or a painful swollen leg"),
    ("heart", "A racing heartbeat, or dizziness on standing"),
    ("head", "A severe headache, or a change in eyesight"),
    ("rash", "A blistering or peeling rash"),
    ("calcium", "Great thirst, constipation and drowsiness together"),
]
RED_FLAGS_SELF_HARM = [("self_harm", "Thoughts of self-harm or of ending one's life")]
# Asked by the earlier checklist and no longer: kept for the bookings that have them, in the
# cancer-team group they belonged to.
RED_FLAGS_EARLIER = [
    ("vomiting", "Vomiting or diarrhoea that would not stop (earlier checklist)"),
    ("jaundice", "Yellow skin or yellow eyes (earlier checklist)"),
]
NO_RED_FLAGS = "none"
RED_FLAGS = [
    *RED_FLAGS_EMERGENCY,
    *RED_FLAGS_CANCER_TEAM,
    *RED_FLAGS_SELF_HARM,
    (NO_RED_FLAGS, "None of these"),
]
# Every code an answer may hold, with its words (the form offers RED_FLAGS only).
RED_FLAG_WORDS = [*RED_FLAGS, *RED_FLAGS_EARLIER]

# The pre-consult health questionnaire. The wording needs a clinician's review
# (docs/safety-and-clinical-content.md).
EARLIER_IMMUNOTHERAPY = [
    ("checkpoint", "Checkpoint inhibitors (for example nivolumab, pembrolizumab, ipilimumab)"),
    ("interleukin2", "Interleukin-2 (IL-2, aldesleukin)"),
    ("interferon", "Interferon"),
    ("none", "None of these"),
    ("not_sure", "Not sure"),
]

SPREAD = [
    ("not_spread", "It has not spread, as far as we know"),
    ("lymph_nodes", "Lymph nodes (glands)"),
    ("lungs", "Lungs"),
    ("liver", "Liver"),
    ("bones", "Bones"),
    ("brain", "Brain"),
    ("elsewhere", "Somewhere else"),
    ("not_sure", "Not sure"),
]

# Conditions that can make cytokine therapy unsafe or need extra care; a "yes" is highlighted
# in the consultant's summary.
CONDITIONS = [
    ("heart", "Heart disease (heart attack, heart failure, irregular heartbeat, angina)"),
    ("lung", "Lung disease (asthma, COPD, breathlessness on walking)"),
    ("kidney", "Kidney disease"),
    ("liver", "Liver disease (including cirrhosis)"),
    ("seizures", "Seizures or fits (epilepsy)"),
    ("transplant", "An organ or stem-cell transplant"),
    ("infection_now", "An infection now: HIV, hepatitis C, or another being treated"),
    ("tb_hepatitis_b", "TB or hepatitis B, at any time, even if it was treated"),
    (
        "autoimmune",
        "Autoimmune disease (rheumatoid arthritis, lupus, psoriasis, Crohn's, ulcerative colitis)",
    ),
    ("thyroid", "Thyroid disease (underactive or overactive thyroid)"),
    ("diabetes", "Diabetes (sugar)"),
    ("mood", "Depression or anxiety, now or in the past"),
    # Interferon can bring back or worsen these, so they are asked apart from low mood.
    ("psychosis", "Bipolar disorder, psychosis or schizophrenia, at any time"),
]
# Asked by the earlier questionnaire and no longer: kept, and shown, for the answers that have
# them (TB and hepatitis B, which matter even when treated, are now asked on their own).
CONDITIONS_EARLIER = [
    ("infection", "An infection now: TB, hepatitis B or C, HIV, or another (earlier question)"),
]

WHO_FILLS_IN = [
    ("patient", "I am the patient"),
    ("relative", "A relative or friend, for the patient"),
    ("together", "The patient and I, together"),
]

# Side effects of earlier immunotherapy that change what can be offered next.
IMMUNE_SIDE_EFFECTS = [
    ("bowel", "Bad diarrhoea or bowel inflammation (colitis)"),
    ("liver", "Liver inflammation (hepatitis) on blood tests"),
    ("lung", "Lung inflammation (pneumonitis)"),
    ("hormones", "Thyroid, adrenal or pituitary problems that need tablets"),
    ("skin", "A severe or blistering rash"),
    ("heart", "Heart inflammation (myocarditis)"),
    ("other", "Something else"),
    ("none", "None of these"),
    ("not_sure", "Not sure"),
]

BRAIN_TREATED = [
    ("treated", "Yes, with surgery or radiotherapy"),
    ("not_yet", "Not treated yet"),
    ("not_sure", "Not sure"),
]

TOBACCO = [
    ("now", "Yes, now"),
    ("stopped", "Used to, and stopped"),
    ("never", "Never"),
]

ALCOHOL = [
    ("most_days", "Yes, on most days"),
    ("sometimes", "Yes, sometimes"),
    ("stopped", "Used to, and stopped"),
    ("never", "Never"),
]

SELF_HARM = [
    ("no", "No"),
    ("past", "In the past, not now"),
    ("now", "Yes, recently or now"),
    ("rather_talk", "I would rather talk about it"),
]

MEDICINES = [
    ("steroids", "Steroids (prednisolone, dexamethasone, or others)"),
    ("blood_pressure", "Blood-pressure tablets"),
    ("blood_thinners", "Blood thinners (aspirin, clopidogrel, warfarin, or others)"),
    ("herbal", "Ayurvedic, homeopathic or herbal products"),
]

PREGNANCY = [
    ("no", "No"),
    ("pregnant", "Pregnant now"),
    ("breastfeeding", "Breastfeeding now"),
    ("not_sure", "Not sure"),
    ("not_applicable", "Does not apply"),
]

# The five ECOG performance levels in the patient's words.
DAILY_ACTIVITY = [
    ("0", "Fully active: everything I did before the illness"),
    ("1", "I cannot do heavy work, but I manage light work, housework or office work"),
    ("2", "I look after myself but cannot work; I am up and about more than half the day"),
    ("3", "I can only partly look after myself; I am in bed or a chair more than half the day"),
    ("4", "I cannot look after myself at all and am in bed or a chair all day"),
]

REPORTS = [
    ("biopsy", "Biopsy or histopathology report"),
    ("scans", "Scan reports (CT, MRI, PET)"),
    ("discharge", "Hospital discharge summary"),
    ("blood", "Recent blood test reports"),
    ("ecg", "ECG (heart tracing)"),
    ("echo", "Echo (heart ultrasound) or MUGA scan"),
    ("lung_function", "Lung function test (spirometry, PFT)"),
    ("none", "None of these yet"),
]

DISTRESS = [(str(score), str(score)) for score in range(11)]
DISTRESS_FOLLOW_UP = 4  # the NCCN distress thermometer's usual cut-off

WORRIES = [
    ("money", "Money or the cost of treatment"),
    ("travel", "Travel or a place to stay"),
    ("work", "Work or studies"),
    ("family", "Looking after family or children"),
    ("daily", "Eating, sleeping or daily tasks"),
    ("understanding", "Understanding the illness or the treatment"),
    ("fear", "Fear or worry about the future"),
]

FOLLOW_UP_REASONS = [
    ("self_harm", "Thoughts of self-harm"),
    ("distress", "Distress of 4 or more"),
]

# The waitlist: when suits, in the person's own time zone, and the language they prefer.
WEEKDAYS = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]
DAY_PARTS = [
    ("morning", "Morning (before 12:00)"),
    ("afternoon", "Afternoon (12:00 to 17:00)"),
    ("evening", "Evening (after 17:00)"),
]
# Where each part of the day starts and ends, in hours of the person's local day.
DAY_PART_HOURS = {"morning": (0, 12), "afternoon": (12, 17), "evening": (17, 24)}
LANGUAGES = [
    ("en", "English"),
    ("hi", "Hindi"),
    ("other", "Another language (we will ask)"),
]

CALL_BACK_OUTCOMES = [
    (CallBackOutcome.REACHED, "Reached and advised"),
    (CallBackOutcome.EMERGENCY, "Sent to emergency"),
    (CallBackOutcome.NO_ANSWER, "Could not reach, try again"),
]

STATUSES = list(AppointmentStatus)


def label(choices: Sequence[tuple[str, str]], value: str | None) -> str:
    """The label shown for a stored value; an unknown value is shown as it is."""
    return dict(choices).get(value or "", value or "")
