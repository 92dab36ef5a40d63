"""The pre-visit question list presumes nothing, and the form asks what the patient knows.

- ``previsit_question.younger_than``: a question only for patients younger than this age
  (the fertility question goes to patients under 50; a patient whose age is not known gets it).
- The seed questions that presumed the therapy is coming ("Who teaches us to give interferon
  injections ...") get new wording beginning "If it were offered to me, ...", and new questions
  are added: proper trials for each therapy, the team's experience with high-dose interleukin-2
  and its intensive care unit, long-term effects, and short lists for breast, head and neck,
  cervical and lung cancer.
- ``intake.knows_diagnosis`` and ``intake.speaks_first``: when a relative books, whether the
  patient knows the diagnosis and who should speak with them about it first.

New and changed wording is clinical text (booking/intake/clinical_review.py): it arrives as
drafts for a clinician to approve, and patients keep the wording they got before until then. A
seed question is changed only where its text, approved wording and audience are still the seed's,
and never one a clinician has signed: a question the clinic wrote or edited is the clinic's and
is left as it is (as 0007 did). Downgrading removes the added questions that nobody approved,
takes back the drafts the upgrade made, and drops the columns.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

FERTILITY = (
    "Can treatment affect fertility? Do I need contraception, and should I think about storing "
    "eggs or sperm first?"
)
FERTILITY_UNDER = 50
SIDE_EFFECTS = "What are the potential side effects, and how can I manage them?"

# (seed text from 0007, therapy asked about, new wording)
REWORDED = [
    (
        "High-dose interleukin-2 needs a hospital stay: how many days per cycle and how many "
        "cycles, in what kind of ward (an ICU-type ward?), and can a family member stay?",
        "interleukin2",
        "If it were offered to me, how many days in hospital would each high-dose interleukin-2 "
        "cycle need, how many cycles, in what kind of ward, and could a family member stay?",
    ),
    (
        "How are severe reactions to interleukin-2 watched for and treated?",
        "interleukin2",
        "If it were offered to me, how would severe reactions to interleukin-2 be watched for "
        "and treated, and who would handle a problem at night?",
    ),
    (
        "Who teaches us to give interferon injections, how often are they given, for how long, "
        "and how are they stored at home?",
        "interferon",
        "If it were offered to me, who would teach us to give interferon injections, how often "
        "and for how long would they be given, and how are they stored at home?",
    ),
    (
        "Interferon can cause low mood: how will my mood be checked during treatment?",
        "interferon",
        "If it were offered to me: interferon can cause low mood, so how would my mood be "
        "checked during treatment?",
    ),
]

# (text, cancer type, therapy asked about); each goes after the last question of its kind
# (see ``_after``), so the clinic's own questions keep their place.
ADDED = [
    (
        "What long-term effects could treatment have, months or years later?",
        None,
        None,
    ),
    (
        "Has interleukin-2 been shown in proper trials to help my kind of cancer? If not, why "
        "suggest it, and would it be given only within a registered trial?",
        None,
        "interleukin2",
    ),
    (
        "How many patients has your team treated with high-dose interleukin-2, and is there an "
        "intensive care unit in the same hospital?",
        None,
        "interleukin2",
    ),
    (
        "Has interferon been shown in proper trials to help my kind of cancer? If not, why "
        "suggest it, and would it be given only within a registered trial?",
        None,
        "interferon",
    ),
    (
        "Which tests on the tumour (hormone receptors, HER2) have been done, and what are the "
        "standard treatments for my type of breast cancer?",
        "breast",
        None,
    ),
    (
        "Where, if anywhere, would cytokine therapy fit among the standard treatments for my "
        "breast cancer?",
        "breast",
        None,
    ),
    (
        "What are the standard treatments for my head and neck cancer at this stage (surgery, "
        "radiation, chemotherapy), and where, if anywhere, would cytokine therapy fit?",
        "head_neck",
        None,
    ),
    (
        "How would treatment affect eating, swallowing and speaking, and who helps with "
        "nutrition?",
        "head_neck",
        None,
    ),
    (
        "What are the standard treatments for cervical cancer at my stage (chemoradiation, "
        "surgery), and where, if anywhere, would cytokine therapy fit?",
        "cervix",
        None,
    ),
    (
        "Should the women in my family be screened for cervical cancer, and the girls "
        "vaccinated against HPV?",
        "cervix",
        None,
    ),
    (
        "Have the gene and marker tests on the tumour (such as EGFR, ALK and PD-L1) been done, "
        "and do they change my options?",
        "lung",
        None,
    ),
    (
        "What are the standard treatments for my lung cancer, and where, if anywhere, would "
        "cytokine therapy fit?",
        "lung",
        None,
    ),
]

QUESTION = sa.table(
    "previsit_question",
    sa.column("id", sa.Integer),
    sa.column("text", sa.String),
    sa.column("cancer_type", sa.String),
    sa.column("therapy", sa.String),
    sa.column("treatment", sa.String),
    sa.column("position", sa.Integer),
    sa.column("active", sa.Boolean),
    sa.column("approved_text", sa.String),
    sa.column("approved_by_id", sa.Integer),
    sa.column("younger_than", sa.Integer),
)


def _same(column, value):
    return column.is_(None) if value is None else column == value


def _seed(text: str, cancer_type, therapy):
    """The seed question, untouched: its text and approved wording are the seed's, it is for
    the seed's audience, and no clinician has signed it."""
    return sa.and_(
        QUESTION.c.text == text,
        QUESTION.c.approved_text == text,
        QUESTION.c.approved_by_id.is_(None),
        _same(QUESTION.c.cancer_type, cancer_type),
        _same(QUESTION.c.therapy, therapy),
        QUESTION.c.treatment.is_(None),
    )


def upgrade():
    with op.batch_alter_table("previsit_question") as batch_op:
        batch_op.add_column(sa.Column("younger_than", sa.Integer(), nullable=True))
    with op.batch_alter_table("intake") as batch_op:
        batch_op.add_column(sa.Column("knows_diagnosis", sa.String(20), nullable=True))
        batch_op.add_column(sa.Column("speaks_first", sa.String(20), nullable=True))
    connection = op.get_bind()
    connection.execute(
        QUESTION.update()
        .where(_seed(FERTILITY, None, None), QUESTION.c.younger_than.is_(None))
        .values(younger_than=FERTILITY_UNDER)
    )
    for seed, therapy, wording in REWORDED:
        # A draft: patients keep the seed wording until a clinician approves the new one.
        connection.execute(
            QUESTION.update().where(_seed(seed, None, therapy)).values(text=wording)
        )
    # Not yet approved (approved_text empty): patients get them once a clinician signs them.
    for text, cancer_type, therapy in ADDED:
        connection.execute(
            QUESTION.insert().values(
                text=text,
                cancer_type=cancer_type,
                therapy=therapy,
                treatment=None,
                position=_after(connection, cancer_type, therapy) + 1,
                active=True,
            )
        )


def _after(connection, cancer_type, therapy) -> int:
    """The position to follow: the last question for the same therapy, or for a cancer type,
    or the seed question on side effects; else the end of the list."""
    if therapy:
        same = sa.and_(
            QUESTION.c.therapy == therapy,
            QUESTION.c.cancer_type.is_(None),
            QUESTION.c.treatment.is_(None),
        )
    elif cancer_type:
        same = sa.and_(QUESTION.c.cancer_type.is_not(None), QUESTION.c.therapy.is_(None))
    else:
        same = QUESTION.c.text == SIDE_EFFECTS
    found = connection.scalar(sa.select(sa.func.max(QUESTION.c.position)).where(same))
    if found is not None:
        return found
    return connection.scalar(sa.select(sa.func.max(QUESTION.c.position))) or 0


def downgrade():
    connection = op.get_bind()
    for text, cancer_type, therapy in ADDED:
        connection.execute(
            QUESTION.delete().where(
                QUESTION.c.text == text,
                QUESTION.c.approved_text.is_(None),
                _same(QUESTION.c.cancer_type, cancer_type),
                _same(QUESTION.c.therapy, therapy),
            )
        )
    for seed, therapy, wording in REWORDED:
        connection.execute(
            QUESTION.update()
            .where(
                QUESTION.c.text == wording,
                QUESTION.c.approved_text == seed,
                _same(QUESTION.c.therapy, therapy),
            )
            .values(text=seed)
        )
    with op.batch_alter_table("intake") as batch_op:
        batch_op.drop_column("speaks_first")
        batch_op.drop_column("knows_diagnosis")
    with op.batch_alter_table("previsit_question") as batch_op:
        batch_op.drop_column("younger_than")
