"""Consult booking schema, and the clinic's pre-visit questions.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 05:13:05.028381

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


# From the clinic page's "Questions to Ask Your Healthcare Provider", and questions written from
# the page's sections on side effects, combination therapy, insurance and support. Staff edit
# the list afterwards; this is only its starting point.
# (text, cancer type or None, treatment or None)
QUESTIONS = [
    ("What specific type of cytokine therapy would be used for my condition?", None, None),
    ("What are the potential side effects, and how can I manage them?", None, None),
    ("How will my progress be monitored, and how often will my response be evaluated?", None, None),
    ("Would cytokine therapy be used alone in my case, or combined with other treatments?", None, None),
    ("Which symptoms mean I should contact my care team straight away?", None, None),
    ("Does my insurance cover this treatment, and is pre-authorisation needed?", None, None),
    ("Can you recommend support groups, counselling or financial assistance programmes?", None, None),
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


def seed_questions():
    table = sa.table(
        "previsit_question",
        sa.column("text", sa.String),
        sa.column("cancer_type", sa.String),
        sa.column("treatment", sa.String),
        sa.column("position", sa.Integer),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(
        table,
        [
            {"text": text, "cancer_type": cancer, "treatment": treatment,
             "position": (index + 1) * 10, "active": True}
            for index, (text, cancer, treatment) in enumerate(QUESTIONS)
        ],
    )


def upgrade():
    op.create_table('previsit_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('cancer_type', sa.String(length=20), nullable=True),
    sa.Column('treatment', sa.String(length=20), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_previsit_question'))
    )
    op.create_table('staff_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('is_consultant', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'staff')", name=op.f('ck_staff_user_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_user')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_user_email'))
    )
    op.create_table('appointment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=12), nullable=False),
    sa.Column('consultant_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('consult_mode', sa.String(length=12), nullable=False),
    sa.Column('patient_name', sa.String(length=120), nullable=False),
    sa.Column('patient_email', sa.String(length=254), nullable=False),
    sa.Column('patient_phone', sa.String(length=20), nullable=False),
    sa.Column('preferred_channel', sa.String(length=10), nullable=False),
    sa.Column('patient_timezone', sa.String(length=64), nullable=False),
    sa.Column('booked_by', sa.String(length=10), nullable=False),
    sa.Column('booker_name', sa.String(length=120), nullable=True),
    sa.Column('booker_relationship', sa.String(length=60), nullable=True),
    sa.Column('consent_health_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consent_reminders', sa.Boolean(), nullable=False),
    sa.Column('consent_reminders_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('manage_token_hash', sa.String(length=64), nullable=False),
    sa.Column('submission_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('confirmed', 'completed', 'no_show', 'cancelled')", name=op.f('ck_appointment_status')),
    sa.ForeignKeyConstraint(['consultant_id'], ['staff_user.id'], name=op.f('fk_appointment_consultant_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment')),
    sa.UniqueConstraint('manage_token_hash', name=op.f('uq_appointment_manage_token_hash')),
    sa.UniqueConstraint('reference', name=op.f('uq_appointment_reference')),
    sa.UniqueConstraint('submission_key', name=op.f('uq_appointment_submission_key'))
    )
    op.create_index(op.f('ix_appointment_patient_email'), 'appointment', ['patient_email'], unique=False)
    op.create_index(op.f('ix_appointment_starts_at'), 'appointment', ['starts_at'], unique=False)
    op.create_index('uq_appointment_consultant_start_active', 'appointment', ['consultant_id', 'starts_at'], unique=True, sqlite_where=sa.text("status != 'cancelled'"), postgresql_where=sa.text("status != 'cancelled'"))

    op.create_table('time_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultant_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['consultant_id'], ['staff_user.id'], name=op.f('fk_time_off_consultant_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_off'))
    )
    op.create_index(op.f('ix_time_off_consultant_id'), 'time_off', ['consultant_id'], unique=False)
    op.create_index(op.f('ix_time_off_ends_at'), 'time_off', ['ends_at'], unique=False)

    op.create_table('weekly_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultant_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.CheckConstraint('start_time < end_time', name=op.f('ck_weekly_hours_order')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_weekly_hours_weekday')),
    sa.ForeignKeyConstraint(['consultant_id'], ['staff_user.id'], name=op.f('fk_weekly_hours_consultant_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weekly_hours'))
    )
    op.create_index(op.f('ix_weekly_hours_consultant_id'), 'weekly_hours', ['consultant_id'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=10), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_audit_event_appointment_id_appointment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_audit_event_staff_user_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    op.create_index(op.f('ix_audit_event_appointment_id'), 'audit_event', ['appointment_id'], unique=False)
    op.create_index(op.f('ix_audit_event_at'), 'audit_event', ['at'], unique=False)

    op.create_table('intake',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('cancer_type', sa.String(length=20), nullable=False),
    sa.Column('cancer_type_other', sa.Text(), nullable=True),
    sa.Column('stage', sa.String(length=10), nullable=False),
    sa.Column('diagnosed', sa.String(length=10), nullable=False),
    sa.Column('diagnosis_details', sa.Text(), nullable=True),
    sa.Column('treatments', sa.String(length=200), nullable=False),
    sa.Column('treatment_details', sa.Text(), nullable=True),
    sa.Column('treating_hospital', sa.Text(), nullable=True),
    sa.Column('has_insurance', sa.String(length=10), nullable=False),
    sa.Column('insurer', sa.Text(), nullable=True),
    sa.Column('policy_number', sa.Text(), nullable=True),
    sa.Column('policy_holder', sa.Text(), nullable=True),
    sa.Column('preauthorisation', sa.String(length=10), nullable=True),
    sa.Column('own_questions', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_intake_appointment_id_appointment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_intake_appointment_id'))
    )
    op.create_index(op.f('ix_intake_cancer_type'), 'intake', ['cancer_type'], unique=False)
    op.create_index(op.f('ix_intake_has_insurance'), 'intake', ['has_insurance'], unique=False)

    op.create_table('outbound_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('ics', sa.Text(), nullable=True),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'dead')", name=op.f('ck_outbound_email_status')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_outbound_email_appointment_id_appointment'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_email')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbound_email_message_id'))
    )
    op.create_index(op.f('ix_outbound_email_appointment_id'), 'outbound_email', ['appointment_id'], unique=False)
    op.create_index('ix_outbound_email_status_next_attempt_at', 'outbound_email', ['status', 'next_attempt_at'], unique=False)

    op.create_table('reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('offset_minutes', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'queued', 'skipped', 'cancelled')", name=op.f('ck_reminder_status')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_reminder_appointment_id_appointment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder')),
    sa.UniqueConstraint('appointment_id', 'offset_minutes', name=op.f('uq_reminder_appointment_id_offset_minutes'))
    )
    op.create_index('ix_reminder_pending_due', 'reminder', ['due_at'], unique=False, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))

    seed_questions()


def downgrade():
    op.drop_table('reminder')
    op.drop_table('outbound_email')
    op.drop_table('intake')
    op.drop_table('audit_event')
    op.drop_table('weekly_hours')
    op.drop_table('time_off')
    op.drop_table('appointment')
    op.drop_table('staff_user')
    op.drop_table('previsit_question')
