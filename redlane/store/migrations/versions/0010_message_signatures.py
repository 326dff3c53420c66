"""mailbox: Ed25519 signatures of messages and receipts, the node keys that made them

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 08:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "node_keys",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=44), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_node_keys")),
    )
    for table in ("messages", "receipts"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("signature", sa.String(length=88), nullable=True))
            batch.add_column(sa.Column("signed_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table in ("receipts", "messages"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("signed_by")
            batch.drop_column("signature")
    op.drop_table("node_keys")
