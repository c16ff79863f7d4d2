"""Every model, imported so the metadata is complete for alembic and the app."""
from .auth_session import AuthSession
from .bulk_job import BulkImportJob, BulkImportRow
from .college import College, CollegeEmailDomain
from .user import User

__all__ = ["AuthSession", "BulkImportJob", "BulkImportRow", "College", "CollegeEmailDomain", "User"]
