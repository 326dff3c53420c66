"""hits: hit/no-hit queries, one hit per holding agency, the messages behind each hit

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 09:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hit_queries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked_by", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("entity_kind", sa.String(length=16), nullable=False),
        sa.Column("entity_key", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_hit_queries_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hit_queries")),
    )
    with op.batch_alter_table("hit_queries") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hit_queries_agency_id_asked_at"), ["agency_id", "asked_at"]
        )
    op.create_table(
        "hits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("query_id", sa.String(length=32), nullable=False),
        sa.Column("holder_agency_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["holder_agency_id"], ["agencies.id"], name=op.f("fk_hits_holder_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["query_id"], ["hit_queries.id"], name=op.f("fk_hits_query_id_hit_queries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hits")),
        sa.UniqueConstraint(
            "query_id", "holder_agency_id", name=op.f("uq_hits_query_id_holder_agency_id")
        ),
    )
    with op.batch_alter_table("hits") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hits_holder_agency_id_state"), ["holder_agency_id", "state"]
        )
    op.create_table(
        "hit_messages",
        sa.Column("hit_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"], name=op.f("fk_hit_messages_hit_id_hits")),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_hit_messages_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("hit_id", "message_id", name=op.f("pk_hit_messages")),
    )


def downgrade() -> None:
    op.drop_table("hit_messages")
    with op.batch_alter_table("hits") as batch_op:
        batch_op.drop_index(batch_op.f("ix_hits_holder_agency_id_state"))
    op.drop_table("hits")
    with op.batch_alter_table("hit_queries") as batch_op:
        batch_op.drop_index(batch_op.f("ix_hit_queries_agency_id_asked_at"))
    op.drop_table("hit_queries")
