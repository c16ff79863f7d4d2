"""Every model, imported so the metadata is complete for alembic and the app."""
from .auth_session import AuthSession
from .bulk_job import BulkImportJob, BulkImportRow
from .college import College, CollegeEmailDomain
from .user import User
from .profile import Profile  # noqa: F401
from .classroom import Classroom, ClassroomEnrollment  # noqa: F401
from .group import GroupMember, StudyGroup  # noqa: F401
from .notification import Notification  # noqa: F401
from .social import DirectConversation, DirectMessage, DirectReadMarker, FriendRequest, Friendship  # noqa: F401

__all__ = ["AuthSession", "BulkImportJob", "BulkImportRow", "College", "CollegeEmailDomain", "User"]
from .embedding import Embedding, MatchingChange  # noqa: F401
from .chat import GroupMessage, GroupReadMarker, MessageReaction  # noqa: F401
from .study_session import CalendarFeed, SessionAttendee, StudySession  # noqa: F401
from .audit import AuditEntry  # noqa: F401
from .password_reset import PasswordResetToken  # noqa: F401
