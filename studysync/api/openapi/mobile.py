"""The StudySync mobile app's `/api` routes (contract: shared/contracts/studysync-mobile.md), as documented.

The shapes follow `api/mobile/` (which builds them by hand): camelCase where the app reads camelCase,
`{"success": true, ...}` with the payload under its own key, errors with an `error` key. A field that
can be null says so; a field that may be absent is not `required`.
"""
from __future__ import annotations

from marshmallow import Schema, fields

from ...schemas.common import Int
from ...schemas.group import MAX_GROUP_SIZE
from .surfaces import Operation

TAG = "mobile"
SOCIAL = "Needs the college's `social` feature (403 otherwise)."
CHAT = "Needs the college's `chat` feature (403 otherwise)."
MATCHING = "Needs the college's `ai_matching` feature (403 otherwise)."
NOT_MODIFIED = {"304": {"description": "Unchanged since the `If-None-Match` ETag the client sent (no body)"}}


def _nullable_string(**kwargs):
    return fields.String(allow_none=True, **kwargs)


class MobileOkSchema(Schema):
    success = fields.Boolean(required=True, metadata={"enum": [True]})
    message = fields.String()


# Bodies -----------------------------------------------------------------------------------------


class MobileRegisterSchema(Schema):
    name = fields.String(required=True)
    email = fields.String(required=True, metadata={"description": "its domain picks the college"})
    password = fields.String(required=True, metadata={"description": "at least 6 characters"})
    major = fields.String()
    year = fields.String()
    subjects = fields.List(fields.String())
    learning_style = fields.String()
    preferred_group_size = Int(min=2, max=20, metadata={"description": "the profile's group size (2 to 20)"})
    availability = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                               metadata={"description": "day name → time slots"})
    study_preferences = fields.List(fields.String())


class MobileLoginSchema(Schema):
    email = fields.String(required=True)
    password = fields.String(required=True)


class MobileCreateGroupSchema(Schema):
    title = fields.String(required=True)
    subject = fields.String()
    description = fields.String()
    schedule = fields.String(metadata={"description": "default `Flexible`"})
    location = fields.String(metadata={"description": "default `TBD`"})
    maxMembers = Int(max=MAX_GROUP_SIZE, metadata={"description": "a missing or non-positive value is 6"})


class MobileQuerySchema(Schema):
    query = fields.String(required=True)


class MobileEmptyBodySchema(Schema):
    """The app sends `{}` (or nothing); the server reads no field."""


class MobileChatMessageBodySchema(Schema):
    content = fields.String(required=True)
    message_type = fields.String(metadata={"description": "`text` (default) or `image`; `messageType` also works"})
    image_url = fields.String(metadata={"description": "`imageUrl` also works"})


class MobileReactSchema(Schema):
    emoji = fields.String(required=True)


class MobileFriendRequestBodySchema(Schema):
    userId = fields.String(required=True)


class MobileSendMessageSchema(Schema):
    receiverId = fields.String(required=True)
    content = fields.String(required=True)


# Answers ----------------------------------------------------------------------------------------


class MobileUserSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    major = _nullable_string()
    year = _nullable_string()
    subjects = fields.List(fields.String(), required=True)


class MobileGroupPreferencesSchema(Schema):
    groupSize = fields.Integer(allow_none=True)
    sessionDuration = fields.Raw(allow_none=True)
    studyGoals = fields.List(fields.String())


class MobileStudyPreferencesSchema(Schema):
    learningStyle = _nullable_string()
    sessionDuration = fields.Raw(allow_none=True)


class MobileFullUserSchema(MobileUserSchema):
    university = _nullable_string()
    learning_style = _nullable_string()
    schedule = fields.Dict(required=True)
    performance_level = fields.Integer(required=True)
    group_preferences = fields.Nested(MobileGroupPreferencesSchema, required=True)
    studyPreferences = fields.Nested(MobileStudyPreferencesSchema, required=True)


class MobilePublicUserSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    major = _nullable_string()
    year = _nullable_string()
    subjects = fields.List(fields.String(), required=True)
    learning_style = _nullable_string()
    schedule = fields.Dict()
    email = fields.String(metadata={"description": "only when the caller may see it"})


class MobileAuthResultSchema(MobileOkSchema):
    token = fields.String(required=True)
    user = fields.Nested(MobileUserSchema, required=True)


class MobileMeSchema(MobileOkSchema):
    user = fields.Nested(MobileFullUserSchema, required=True)


class MobileUserProfileSchema(MobileOkSchema):
    user = fields.Nested(MobilePublicUserSchema, required=True)


class MobileCompatibilitySchema(Schema):
    subject = fields.Float(allow_none=True)
    schedule = fields.Float(allow_none=True)
    learningStyle = fields.Float(allow_none=True)
    performance = fields.Float(allow_none=True)


class MobileRecommendationSchema(Schema):
    id = _nullable_string(metadata={"description": "null for a suggested group that does not exist yet"})
    title = fields.String(required=True)
    matchPercentage = fields.Integer(allow_none=True, required=True, metadata={"description": "1–100, or null"})
    memberInfo = fields.String(required=True, metadata={"description": "e.g. `2/6 members`"})
    schedule = fields.String(required=True)
    focus = fields.String(required=True)
    location = fields.String(required=True)
    action = fields.String(required=True, metadata={"enum": ["Join Group", "Request to Join", "Create Group"]})
    suggested = fields.Boolean(required=True)
    explanation = fields.String(required=True)
    compatibility = fields.Nested(MobileCompatibilitySchema, required=True)


class MobileRecommendationsSchema(MobileOkSchema):
    recommendations = fields.List(fields.Nested(MobileRecommendationSchema), required=True)


class MobileGroupCreatedSchema(MobileOkSchema):
    group_id = fields.String(required=True)


class MobileMyGroupSchema(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    subject = fields.String(required=True)
    description = fields.String(required=True)
    schedule = fields.String(required=True)
    location = fields.String(required=True)
    maxMembers = fields.Integer(required=True)
    currentMembers = fields.Integer(required=True)
    leaderName = fields.String(required=True)
    role = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "`active` or `pending`"})
    createdAt = _nullable_string(metadata={"format": "date-time"})
    joinedAt = _nullable_string(metadata={"format": "date-time"})


class MobileMyGroupsSchema(MobileOkSchema):
    groups = fields.List(fields.Nested(MobileMyGroupSchema), required=True)


class MobileJoinSchema(MobileOkSchema):
    status = fields.String(required=True, metadata={"description": "`pending` (the leader decides) or `active`"})


class MobileGroupHitSchema(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    matchPercentage = fields.Integer(allow_none=True, required=True)
    focus = fields.String(required=True)
    memberInfo = fields.String(required=True)
    schedule = fields.String(required=True)
    location = fields.String(required=True)
    explanation = fields.String(required=True)
    maxMembers = fields.Integer(required=True)
    currentMembers = fields.Integer(required=True)
    leaderName = fields.String(required=True, metadata={"description": "empty when unknown"})
    members = fields.List(fields.Nested("MobileGroupHitMemberSchema"), required=True,
                          metadata={"description": "active members, the leader first"})
    description = fields.String(required=True)


class MobileGroupHitMemberSchema(Schema):
    name = fields.String(required=True)
    major = _nullable_string(required=True, metadata={"description": "the major, else the department"})
    role = fields.String(required=True, metadata={"enum": ["leader", "member"]})


class MobileGroupSearchSchema(MobileOkSchema):
    results = fields.List(fields.Nested(MobileGroupHitSchema), required=True)


class MobilePersonHitSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    major = _nullable_string()
    year = _nullable_string()
    subjects = fields.List(fields.String(), required=True)
    matchPercentage = fields.Integer(allow_none=True, required=True)


class MobilePeopleSearchSchema(MobileOkSchema):
    results = fields.List(fields.Nested(MobilePersonHitSchema), required=True)


class MobileNotificationSchema(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True, metadata={"description": "e.g. `join_request`, `request_approved`, "
                                                                "`friend_request`"})
    title = fields.String(required=True)
    message = fields.String(required=True)
    read = fields.Boolean(required=True)
    createdAt = fields.String(required=True, metadata={"format": "date-time"})
    data = fields.Dict(required=True, metadata={"description": "ids the app needs, e.g. `groupId`, `requesterId`, "
                                                              "`requestId`"})


class MobileNotificationsSchema(MobileOkSchema):
    notifications = fields.List(fields.Nested(MobileNotificationSchema), required=True)
    unreadCount = fields.Integer(required=True)


class MobileReactionSchema(Schema):
    userId = fields.String(required=True)
    emoji = fields.String(required=True)


class MobileChatMessageSchema(Schema):
    id = fields.String(required=True)
    groupId = fields.String(required=True)
    userId = fields.String(required=True)
    userName = fields.String(required=True)
    senderId = fields.String(required=True)
    senderName = fields.String(required=True)
    content = fields.String(required=True)
    message = fields.String(required=True)
    messageType = fields.String(required=True)
    type = fields.String(required=True)
    imageUrl = _nullable_string()
    imageUri = _nullable_string()
    timestamp = fields.String(required=True, metadata={"format": "date-time"})
    createdAt = fields.String(required=True, metadata={"format": "date-time"})
    edited = fields.Boolean(required=True)
    deleted = fields.Boolean(required=True)
    reactions = fields.List(fields.Nested(MobileReactionSchema), required=True)


class MobileChatMessagesSchema(MobileOkSchema):
    messages = fields.List(fields.Nested(MobileChatMessageSchema), required=True)


class MobileChatMessageSentSchema(MobileOkSchema):
    data = fields.Nested(MobileChatMessageSchema, required=True)


class MobileReactedSchema(MobileChatMessageSentSchema):
    reactions = fields.List(fields.Nested(MobileReactionSchema), required=True)


class MobileFriendRequestSentSchema(MobileOkSchema):
    status = fields.String(required=True, metadata={"description": "`pending`, or `friends` when the other "
                                                                  "student had already asked"})
    requestId = fields.String()


class MobileFriendRequestSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True)
    senderId = fields.String(required=True)
    senderName = fields.String(allow_none=True, required=True)
    createdAt = fields.String(required=True, metadata={"format": "date-time"})


class MobileFriendRequestsSchema(MobileOkSchema):
    requests = fields.List(fields.Nested(MobileFriendRequestSchema), required=True)


class MobileFriendSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    major = _nullable_string()
    year = _nullable_string()
    email = _nullable_string()


class MobileFriendsSchema(MobileOkSchema):
    friends = fields.List(fields.Nested(MobileFriendSchema), required=True)


class MobileDirectMessageSchema(Schema):
    id = fields.String(required=True)
    senderId = fields.String(required=True)
    senderName = fields.String(required=True)
    receiverId = _nullable_string()
    content = fields.String(required=True)
    createdAt = fields.String(required=True, metadata={"format": "date-time"})


class MobileDirectMessageSentSchema(MobileOkSchema):
    data = fields.Nested(MobileDirectMessageSchema, required=True)


class MobileDirectMessagesSchema(MobileOkSchema):
    messages = fields.List(fields.Nested(MobileDirectMessageSchema), required=True)


# Operations -------------------------------------------------------------------------------------

JANE = {"name": "Jane Doe", "email": "jane@demo.edu", "password": "secret123", "major": "Computer Science",
        "year": "Junior", "subjects": ["Mathematics", "Computer Science"],
        "learning_style": "I learn best with visual aids and practice problems", "preferred_group_size": 3,
        "availability": {"Monday": ["Morning (8-12 PM)"], "Wednesday": ["Afternoon (12-5 PM)"]},
        "study_preferences": ["Exam Preparation"]}


def _op(method, path, operation_id, summary, response, **kwargs) -> Operation:
    kwargs.setdefault("extra_responses", NOT_MODIFIED if method == "get" else {})
    return Operation(method, path, operation_id, summary, TAG, response, mobile=True, **kwargs)


OPERATIONS = [
    _op("post", "/api/auth/register", "mobile_register", "Register a student (the email's domain picks the college)",
        MobileAuthResultSchema, status=201, body=MobileRegisterSchema, public=True, example=JANE,
        description="A 400 when no college owns the email's domain (and no `DEFAULT_COLLEGE` is set): the "
                    "college must first declare its `email_domains`. 409 when the email is taken."),
    _op("post", "/api/auth/login", "mobile_login", "Log in (any role)", MobileAuthResultSchema,
        body=MobileLoginSchema, public=True, example={"email": "alice.johnson@demo.edu", "password": "Student@1234"}),
    _op("get", "/api/auth/me", "mobile_me", "The signed-in user with profile and preferences", MobileMeSchema),
    _op("get", "/api/auth/profile", "mobile_profile", "The signed-in user (same as /api/auth/me)", MobileMeSchema),
    _op("get", "/api/users/{user_id}", "mobile_user_profile", "Another user's public profile",
        MobileUserProfileSchema),
    _op("post", "/api/recommend", "mobile_recommend", "Recommended groups (and suggested new ones)",
        MobileRecommendationsSchema, body=MobileEmptyBodySchema, example={}, description=MATCHING),
    _op("post", "/api/groups/create", "mobile_create_group", "Create a study group (joining by request)",
        MobileGroupCreatedSchema, status=201, body=MobileCreateGroupSchema,
        example={"title": "Math 220 Study Group", "subject": "Mathematics", "description": "",
                 "schedule": "Flexible", "location": "TBD", "maxMembers": 6}),
    _op("get", "/api/groups/mine", "mobile_my_groups", "My groups, with pending requests", MobileMyGroupsSchema),
    _op("post", "/api/groups/{group_id}/request-join", "mobile_request_join", "Ask to join a group",
        MobileJoinSchema, description="No body. `status` is `pending` until the leader approves."),
    _op("post", "/api/groups/{group_id}/join", "mobile_join", "Join a group (same as request-join)", MobileJoinSchema),
    _op("post", "/api/groups/{group_id}/requests/{user_id}/approve", "mobile_approve_request",
        "Approve a join request (the leader)", MobileOkSchema),
    _op("post", "/api/groups/{group_id}/requests/{user_id}/reject", "mobile_reject_request",
        "Reject a join request (the leader)", MobileOkSchema),
    _op("post", "/api/search", "mobile_search_groups", "Search groups by meaning", MobileGroupSearchSchema,
        body=MobileQuerySchema, example={"query": "Math 220"}, description=MATCHING),
    _op("post", "/api/search/people", "mobile_search_people", "Search classmates by meaning",
        MobilePeopleSearchSchema, body=MobileQuerySchema, example={"query": "physics"}, description=MATCHING),
    _op("get", "/api/notifications", "mobile_notifications", "My notifications and the unread count",
        MobileNotificationsSchema),
    _op("post", "/api/notifications/{notification_id}/read", "mobile_read_notification",
        "Mark a notification read", MobileOkSchema),
    _op("get", "/api/chat/{group_id}/messages", "mobile_group_messages", "A group's chat messages",
        MobileChatMessagesSchema, description=CHAT),
    _op("post", "/api/chat/{group_id}/message", "mobile_send_group_message", "Post to a group's chat",
        MobileChatMessageSentSchema, status=201, body=MobileChatMessageBodySchema,
        example={"content": "Hi all!", "message_type": "text"}, description=CHAT),
    _op("post", "/api/chat/{group_id}/send", "mobile_send_group_message_seed", "Post to a group's chat (seed 002's path)",
        MobileChatMessageSentSchema, status=201, body=MobileChatMessageBodySchema,
        example={"content": "Welcome!", "message_type": "text"}, description=CHAT),
    _op("post", "/api/chat/message/{message_id}/react", "mobile_react", "Toggle a reaction on a chat message",
        MobileReactedSchema, body=MobileReactSchema, example={"emoji": "👋"}, description=CHAT),
    _op("post", "/api/friends/request", "mobile_send_friend_request", "Send a friend request",
        MobileFriendRequestSentSchema, body=MobileFriendRequestBodySchema,
        example={"userId": "<a classmate's id>"}, description=SOCIAL),
    _op("get", "/api/friends/requests", "mobile_friend_requests", "Friend requests waiting for me",
        MobileFriendRequestsSchema, description=SOCIAL),
    _op("post", "/api/friends/request/{request_id}/accept", "mobile_accept_friend_request",
        "Accept a friend request", MobileOkSchema, description=SOCIAL),
    _op("post", "/api/friends/request/{request_id}/reject", "mobile_reject_friend_request",
        "Reject a friend request", MobileOkSchema, description=SOCIAL),
    _op("get", "/api/friends", "mobile_friends", "My friends", MobileFriendsSchema, description=SOCIAL),
    _op("post", "/api/messages/send", "mobile_send_message", "Send a direct message", MobileDirectMessageSentSchema,
        body=MobileSendMessageSchema, example={"receiverId": "<a friend's id>", "content": "Thanks for the invite!"},
        description=CHAT),
    _op("get", "/api/messages/{user_id}", "mobile_dm_thread", "My direct messages with one user",
        MobileDirectMessagesSchema, description=CHAT),
]
