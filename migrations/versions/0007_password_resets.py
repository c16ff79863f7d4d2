"""account lifecycle: temporary passwords that must be changed, forgot-password tokens

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 17:40:00
"""
from alembic import op
import sqlalchemy as sa
import studysync.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))

    op.create_table('password_reset_tokens',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', studysync.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', studysync.db.UTCDateTime(), nullable=False),
    sa.Column('used_at', studysync.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('college_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['college_id', 'user_id'], ['users.college_id', 'users.id'], name='fk_password_reset_tokens_college_user', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['college_id'], ['colleges.id'], name=op.f('fk_password_reset_tokens_college_id_colleges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_reset_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_tokens_token_hash'))
    )
    with op.batch_alter_table('password_reset_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_reset_tokens_college_id'), ['college_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_password_reset_tokens_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('password_reset_tokens')  # its indexes go with it (MariaDB refuses to drop one an FK needs)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
