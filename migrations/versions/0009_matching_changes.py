"""matching_changes: an append-only log of matching changes replaces the per-college version row

Every join, leave and profile change of a college used to increment one row of
college_matching_state, so concurrent joins in a college queued on its lock, and any change threw
away every worker's whole index of the college. A change now inserts one row here (no lock shared
with another writer); workers apply the rows newer than the last they applied.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa
import studysync.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('matching_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('college_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', studysync.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['college_id'], ['colleges.id'], name=op.f('fk_matching_changes_college_id_colleges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_changes')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('matching_changes', schema=None) as batch_op:
        batch_op.create_index('ix_matching_changes_college_id_id', ['college_id', 'id'], unique=False)
    op.drop_table('college_matching_state')


def downgrade() -> None:
    op.create_table('college_matching_state',
    sa.Column('college_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['college_id'], ['colleges.id'], name=op.f('fk_college_matching_state_college_id_colleges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('college_id', name=op.f('pk_college_matching_state'))
    )
    # Dropping the table drops its indexes; MariaDB refuses to drop an index a foreign key needs.
    op.drop_table('matching_changes')
