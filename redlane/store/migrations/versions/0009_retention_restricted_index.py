"""retention: a partial index on the restricted messages, asked of every listed message

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WHERE = sa.text("restricted_at IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_retention_restricted",
        "retention",
        ["message_id"],
        postgresql_where=WHERE,
        sqlite_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_retention_restricted", table_name="retention")
