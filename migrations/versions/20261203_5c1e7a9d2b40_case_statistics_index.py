"""case statistics index: everything domain.statistics reads of a case, so its
grouped scan and distinct-enterprise count read the index alone

Revision ID: 5c1e7a9d2b40
Revises: 18e3d215d5a6
Create Date: 2026-12-03 22:05:00

"""

from alembic import op

revision = "5c1e7a9d2b40"
down_revision = "18e3d215d5a6"
branch_labels = None
depends_on = None

COLUMNS = [
    "status",
    "batch_id",
    "district",
    "industry",
    "campaign_id",
    "transferred_to_police",
    "workers_involved",
    "amount_involved",
    "fine_amount",
    "credit_code",
    "reg_no",
    "enterprise_name",
]


# Not in a batch operation: on SQLite that could copy the whole table.
def upgrade():
    op.create_index("ix_case_statistics", "case_record", COLUMNS, unique=False)


def downgrade():
    op.drop_index("ix_case_statistics", table_name="case_record")
