"""The pre-visit question list, corrected: questions that presumed cytokine therapy fits (or
pushed a discontinued drug) are replaced by questions that help a patient decide, therapy
questions are keyed on the therapy the patient asks about, and new questions cover the goal,
the alternatives, safety, practicalities in India, cost and cover, trials and second opinions.

Only rows that still carry the original seed text are removed: a question the clinic has
edited is the clinic's and is left as it is. The list is then numbered again: the new
questions and the kept seed questions in the order below (the goal of treatment first), then
every question the clinic wrote, in the clinic's order. Downgrading removes the added
questions and brings back the removed seeds.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Seed questions (text, cancer type, treatment) from 0001 that presumed the answer.
REMOVED = [
    ("What specific type of cytokine therapy would be used for my condition?", None, None),
    ("Would cytokine therapy be used alone in my case, or combined with other treatments?", None, None),
    ("Does my insurance cover this treatment, and is pre-authorisation needed?", None, None),
    ("What results has cytokine therapy (interleukin-2 or interferon) had for melanoma like mine?", "melanoma", None),
    ("Could cytokine therapy work on its own for my kidney cancer, or only with other treatment?", "renal_cell", None),
    ("How would cytokine therapy fit with the treatment I already have for leukaemia?", "leukaemia", None),
    ("How would cytokine therapy fit with my lymphoma treatment, and how is response measured?", "lymphoma", None),
    ("Could a pegylated interferon, given less often, be an option for me?", None, "interferon"),
    ("Would interleukin-2 treatment need a hospital stay, and how are severe reactions handled?", None, "interleukin2"),
    ("Can cytokine therapy be combined with my checkpoint inhibitor, and what extra side effects might that bring?", None, "immunotherapy"),
    ("How would cytokine therapy be timed around my chemotherapy?", None, "chemotherapy"),
    ("How would cytokine therapy be timed around my radiation therapy?", None, "radiation"),
]

# (text, cancer type, therapy asked about, current treatment); None means "any".
ADDED = [
    ("What is the goal of treatment for me: cure, keeping the cancer under control, or comfort? Out of 100 people like me, how many are helped?", None, None, None),
    ("Is cytokine therapy a standard treatment for my cancer and its stage, or is it only given in clinical trials?", None, None, None),
    ("What other options do I have, including other treatments and no cancer treatment, and how do they compare?", None, None, None),
    ("Which tests are needed before treatment could start (heart, lungs, blood tests, scans)?", None, None, None),
    ("Do any of my other health conditions make this treatment unsafe for me?", None, None, None),
    ("Which of my medicines, including Ayurvedic, homeopathic or herbal ones, would I need to stop or change?", None, None, None),
    ("Where would treatment be given, and is the medicine available in India?", None, None, None),
    ("Whom do we call at night or at the weekend if there is a problem during treatment?", None, None, None),
    ("How would treatment affect work and daily life, for me and for my family?", None, None, None),
    ("Can treatment affect fertility? Do I need contraception, and should I think about storing eggs or sperm first?", None, None, None),
    ("What would the whole treatment cost, including the hospital stay, tests and medicines? Can we have a written estimate?", None, None, None),
    ("Will my insurer or government scheme pay for this treatment, and is the hospital in its cashless network?", None, None, None),
    ("Can the hospital help with pre-authorisation, the TPA's paperwork and financial aid?", None, None, None),
    ("Is there a clinical trial I could join? Is it listed in India's Clinical Trials Registry (CTRI)?", None, None, None),
    ("Can I have a second opinion, and will you send a summary of this consult to my oncologist?", None, None, None),
    ("How can my family help during treatment and recovery?", None, None, None),
    ("How does interleukin-2 compare with checkpoint inhibitors or targeted therapy for melanoma like mine?", "melanoma", None, None),
    ("Is my kidney cancer the clear-cell type that interleukin-2 is used for, and how does it compare with today's first treatments for kidney cancer?", "renal_cell", None, None),
    ("Is interferon still used for my type of leukaemia, or has it been replaced by newer medicines?", "leukaemia", None, None),
    ("Is cytokine therapy still used for my type of lymphoma, or have other treatments replaced it?", "lymphoma", None, None),
    ("High-dose interleukin-2 needs a hospital stay: how many days per cycle and how many cycles, in what kind of ward (an ICU-type ward?), and can a family member stay?", None, "interleukin2", None),
    ("How are severe reactions to interleukin-2 watched for and treated?", None, "interleukin2", None),
    ("Who teaches us to give interferon injections, how often are they given, for how long, and how are they stored at home?", None, "interferon", None),
    ("Interferon can cause low mood: how will my mood be checked during treatment?", None, "interferon", None),
    ("Is combining interleukin-2 with my checkpoint inhibitor proven, or only being tried in clinical trials?", None, "interleukin2", "immunotherapy"),
    ("If cytokine therapy were an option, how would it fit with my chemotherapy?", None, None, "chemotherapy"),
    ("If cytokine therapy were an option, how would it fit with my radiation therapy?", None, None, "radiation"),
]

# Seed questions from 0001 that stay, and where they go among the new ones.
KEPT = [
    "What are the potential side effects, and how can I manage them?",
    "Which symptoms mean I should contact my care team straight away?",
    "How will my progress be monitored, and how often will my response be evaluated?",
    "Can you recommend support groups, counselling or financial assistance programmes?",
]
ORDER = [text for text, *_ in ADDED[:6]] + KEPT[:3] + [text for text, *_ in ADDED[6:13]] + (
    KEPT[3:] + [text for text, *_ in ADDED[13:]]
)

QUESTION = sa.table(
    "previsit_question",
    sa.column("id", sa.Integer),
    sa.column("text", sa.String),
    sa.column("cancer_type", sa.String),
    sa.column("therapy", sa.String),
    sa.column("treatment", sa.String),
    sa.column("position", sa.Integer),
    sa.column("active", sa.Boolean),
)


def _same(column, value):
    return column.is_(None) if value is None else column == value


def _last_position(connection) -> int:
    return connection.scalar(sa.select(sa.func.max(QUESTION.c.position))) or 0


def upgrade():
    connection = op.get_bind()
    for text, cancer, treatment in REMOVED:
        connection.execute(
            QUESTION.delete().where(
                QUESTION.c.text == text,
                _same(QUESTION.c.cancer_type, cancer),
                _same(QUESTION.c.treatment, treatment),
            )
        )
    start = _last_position(connection)
    op.bulk_insert(
        QUESTION,
        [
            {"text": text, "cancer_type": cancer, "therapy": therapy, "treatment": treatment,
             "position": start + (index + 1) * 10, "active": True}
            for index, (text, cancer, therapy, treatment) in enumerate(ADDED)
        ],
    )
    _number_again(connection)


def _number_again(connection) -> None:
    rows = connection.execute(
        sa.select(QUESTION.c.id, QUESTION.c.text).order_by(QUESTION.c.position, QUESTION.c.id)
    ).all()
    rank = {text: index for index, text in enumerate(ORDER)}
    ordered = sorted(rows, key=lambda row: rank.get(row.text, len(ORDER)))  # stable: keeps the rest
    for index, row in enumerate(ordered):
        connection.execute(
            QUESTION.update().where(QUESTION.c.id == row.id).values(position=(index + 1) * 10)
        )


def downgrade():
    connection = op.get_bind()
    for text, cancer, therapy, treatment in ADDED:
        connection.execute(
            QUESTION.delete().where(
                QUESTION.c.text == text,
                _same(QUESTION.c.cancer_type, cancer),
                _same(QUESTION.c.therapy, therapy),
                _same(QUESTION.c.treatment, treatment),
            )
        )
    start = _last_position(connection)
    op.bulk_insert(
        QUESTION,
        [
            {"text": text, "cancer_type": cancer, "therapy": None, "treatment": treatment,
             "position": start + (index + 1) * 10, "active": True}
            for index, (text, cancer, treatment) in enumerate(REMOVED)
        ],
    )
