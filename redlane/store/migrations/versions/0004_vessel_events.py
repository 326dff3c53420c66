"""vessel events

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 04:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vessel_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("content_hash", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("message_ref", sa.Text(), nullable=True),
        sa.Column("sender", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("mmsi", sa.String(length=9), nullable=False),
        sa.Column("imo", sa.String(length=7), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("place", sa.String(length=5), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("other_mmsi", sa.String(length=9), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batches.id"],
            name=op.f("fk_vessel_events_batch_id_ingest_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vessel_events")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_vessel_events_content_hash")),
    )
    with op.batch_alter_table("vessel_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vessel_events_mmsi_start"), ["mmsi", "start"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_vessel_events_imo"), ["imo"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vessel_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vessel_events_imo"))
        batch_op.drop_index(batch_op.f("ix_vessel_events_mmsi_start"))

    op.drop_table("vessel_events")
