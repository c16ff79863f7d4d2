"""Friends: requests between classmates, answered by the person asked; friendships per pair.

Rules:
- A request goes to an active user of the caller's college other than the caller (else 400/404).
- At most one pending request per pair, in either direction (a unique column, so concurrent
  requests cannot duplicate): asking again is a 409, and asking someone who has already asked you
  accepts their request — you become friends at once.
- Only the addressee answers a request (the sender gets a 403, anyone else a 404); a request that
  is no longer pending is a 409. After a rejection either side may ask again.
- One friendship row per pair (unique ordered pair); unfriending deletes it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from ..access import allow, presenter
from ..db import db, utcnow
from ..errors import BadRequest, Conflict, Forbidden, NotFound
from ..models import FriendRequest, Friendship, Profile, User
from ..models.social import ordered_pair, pair_key
from ..models.user import COLLEGE_ROLES
from ..policies import can_see_email
from ..queries import Page
from . import notifications

FRIEND_REQUEST = "friend_request"
FRIEND_REQUEST_ACCEPTED = "friend_request_accepted"
REQUEST_NOT_FOUND = "Friend request not found"
USER_NOT_FOUND = "User not found"


@dataclass
class RequestResult:
    """What `send_friend_request` did: sent a new request, or matched the other's pending one."""

    request: FriendRequest
    matched: bool
    friend: dict[str, Any] | None = None


# Lookups ---------------------------------------------------------------------------------------


def classmate_or_404(actor: User, user_id: str, *, self_message: str, active: bool = True) -> User:
    """Another user of the actor's college (never the platform's sysadmin); 400 for the actor."""
    if user_id == actor.id:
        raise BadRequest(self_message)
    other = db.session.get(User, user_id)  # often already loaded by the URL's id check (api/ids.py)
    if other is None or other.college_id != actor.college_id or other.role == "sysadmin" \
            or (active and not other.is_active):
        raise NotFound(USER_NOT_FOUND)
    return other


def _friendship(a: str, b: str, *, lock: bool = False) -> Friendship | None:
    low, high = ordered_pair(a, b)
    stmt = select(Friendship).where(Friendship.user_low_id == low, Friendship.user_high_id == high)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.session.execute(stmt).scalar_one_or_none()


def are_friends(a: str, b: str) -> bool:
    return a != b and _friendship(a, b) is not None


def friend_ids_among(user_id: str, candidate_ids: Iterable[str]) -> set[str]:
    """Which of `candidate_ids` are friends of `user_id` (one query)."""
    ids = set(candidate_ids) - {user_id}
    if not ids:
        return set()
    rows = db.session.execute(
        select(Friendship.user_low_id, Friendship.user_high_id).where(or_(
            and_(Friendship.user_low_id == user_id, Friendship.user_high_id.in_(ids)),
            and_(Friendship.user_high_id == user_id, Friendship.user_low_id.in_(ids))))
    ).all()
    return {high if low == user_id else low for low, high in rows}


def visible_emails(viewer: User, people: Iterable[User]) -> dict[str, str]:
    """The emails `viewer` may see among `people`, by id: one rule (`policies.can_see_email`) for
    every listing that shows people, with one query for the friendships it needs."""
    people = list(people)
    friends = friend_ids_among(viewer.id, (p.id for p in people))
    return {p.id: p.email for p in people if can_see_email(viewer, p, friends=p.id in friends)}


def _pending_between(a: str, b: str) -> FriendRequest | None:
    return db.session.execute(
        select(FriendRequest).where(FriendRequest.pending_pair == pair_key(a, b))
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _users(user_ids: set[str]) -> dict[str, User]:
    if not user_ids:
        return {}
    return {u.id: u for u in db.session.execute(select(User).where(User.id.in_(user_ids))).scalars()}


def brief(user: User) -> dict[str, Any]:
    return {"user_id": user.id, "name": user.name, "role": user.role}


def friend_view(user: User, profile: Profile | None, since) -> dict[str, Any]:
    return {
        "user_id": user.id, "name": user.name, "email": user.email, "role": user.role,
        "department": user.department,
        "major": (profile.major if profile is not None else None) or user.department,
        "year": (profile.year if profile is not None and profile.year else user.year),
        "friends_since": since,
    }


def request_view(request: FriendRequest, users: dict[str, User]) -> dict[str, Any]:
    return {
        "request_id": request.id, "status": request.status,
        "sender": brief(users[request.sender_id]), "receiver": brief(users[request.receiver_id]),
        "created_at": request.created_at, "responded_at": request.responded_at,
    }


# Requests --------------------------------------------------------------------------------------


@allow(*COLLEGE_ROLES, feature="social")
def send_friend_request(actor: User, user_id: str) -> RequestResult:
    """Ask `user_id` to be friends; if they already asked the actor, that request is accepted."""
    target = classmate_or_404(actor, user_id, self_message="You cannot send a friend request to yourself")
    for attempt in range(2):
        if are_friends(actor.id, target.id):
            raise Conflict("You are already friends")
        pending = _pending_between(actor.id, target.id)
        if pending is not None:
            if pending.sender_id == actor.id:
                raise Conflict("Friend request already sent")
            friendship = _accept(pending, accepter=actor)
            db.session.flush()
            return RequestResult(pending, matched=True, friend=_friend_of(actor, target, friendship))
        request = FriendRequest(sender_id=actor.id, receiver_id=target.id, status="pending",
                                pending_pair=pair_key(actor.id, target.id), created_at=utcnow())
        try:
            with db.session.begin_nested():
                db.session.add(request)
        except IntegrityError:
            # A request between the two committed meanwhile (a double click, or they asked us at
            # the same moment): look again, now that it is visible.
            if attempt:
                raise Conflict("Friend request already pending")
            continue
        notifications.notify(target.id, FRIEND_REQUEST, "New friend request", f"{actor.name} wants to be friends",
                             {"requestId": request.id, "senderId": actor.id, "senderName": actor.name})
        db.session.flush()
        return RequestResult(request, matched=False)
    raise Conflict("Friend request already pending")  # pragma: no cover - the loop returns or raises


@allow(*COLLEGE_ROLES, feature="social")
def respond(actor: User, request_id: str, accept: bool) -> RequestResult:
    """The addressee accepts or rejects a pending request."""
    request = db.session.execute(
        select(FriendRequest).where(FriendRequest.id == request_id)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if request is None or actor.id not in (request.sender_id, request.receiver_id):
        raise NotFound(REQUEST_NOT_FOUND)
    if actor.id != request.receiver_id:
        raise Forbidden("Only the person you asked can answer this friend request")
    if request.status != "pending":
        raise Conflict(f"Friend request already {request.status}")
    friend = None
    if accept:
        friendship = _accept(request, accepter=actor)
        sender = db.session.execute(select(User).where(User.id == request.sender_id)).scalar_one()
        friend = _friend_of(actor, sender, friendship)
    else:
        request.status, request.pending_pair, request.responded_at = "rejected", None, utcnow()
    db.session.flush()
    return RequestResult(request, matched=False, friend=friend)


def _accept(request: FriendRequest, accepter: User) -> Friendship:
    """Mark `request` accepted and befriend the pair (in the caller's transaction)."""
    request.status, request.pending_pair, request.responded_at = "accepted", None, utcnow()
    friendship = _befriend(request.sender_id, request.receiver_id)
    notifications.notify(request.sender_id, FRIEND_REQUEST_ACCEPTED, "Friend request accepted",
                         f"{accepter.name} accepted your friend request",
                         {"requestId": request.id, "userId": accepter.id,
                          "senderId": accepter.id, "senderName": accepter.name})
    return friendship


def _befriend(a: str, b: str) -> Friendship:
    low, high = ordered_pair(a, b)
    friendship = Friendship(user_low_id=low, user_high_id=high, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(friendship)
    except IntegrityError:  # befriended concurrently by another path: one row per pair either way
        existing = _friendship(a, b, lock=True)
        if existing is None:
            raise
        return existing
    return friendship


@allow(*COLLEGE_ROLES, feature="social")
def pending_requests(actor: User, direction: str = "incoming", page: int = 1, limit: int = 20) -> Page[dict]:
    """Pending requests to the actor (`incoming`) or from them (`outgoing`), newest first."""
    if direction not in ("incoming", "outgoing"):
        raise BadRequest("direction must be incoming or outgoing")
    mine = FriendRequest.receiver_id if direction == "incoming" else FriendRequest.sender_id
    where = and_(mine == actor.id, FriendRequest.status == "pending")
    total = db.session.execute(select(func.count()).select_from(FriendRequest).where(where)).scalar_one()
    requests = db.session.execute(
        select(FriendRequest).where(where)
        .order_by(FriendRequest.created_at.desc(), FriendRequest.id.desc())
        .limit(limit).offset((page - 1) * limit)
    ).scalars().all()
    users = _users({r.sender_id for r in requests} | {r.receiver_id for r in requests})
    return Page(items=[request_view(r, users) for r in requests], page=page, limit=limit, total=total)


@presenter
def result_view(result: RequestResult) -> dict[str, Any]:
    users = _users({result.request.sender_id, result.request.receiver_id})
    return {"status": "friends" if result.friend is not None else result.request.status,
            "request": request_view(result.request, users), "friend": result.friend}


# Friendships -----------------------------------------------------------------------------------


def _friend_of(actor: User, other: User, friendship: Friendship) -> dict[str, Any]:
    profile = db.session.execute(select(Profile).where(Profile.user_id == other.id)).scalar_one_or_none()
    return friend_view(other, profile, friendship.created_at)


@allow(*COLLEGE_ROLES, feature="social")
def friends_of(user: User, page: int = 1, limit: int = 20) -> Page[dict]:
    """The user's friends by name, with their email, major and year (three queries for any page)."""
    mine = or_(Friendship.user_low_id == user.id, Friendship.user_high_id == user.id)
    friend_id = or_(
        and_(Friendship.user_low_id == user.id, User.id == Friendship.user_high_id),
        and_(Friendship.user_high_id == user.id, User.id == Friendship.user_low_id),
    )
    total = db.session.execute(select(func.count()).select_from(Friendship).where(mine)).scalar_one()
    rows = db.session.execute(
        select(User, Friendship.created_at).join(Friendship, friend_id).where(mine)
        .order_by(User.name, User.id).limit(limit).offset((page - 1) * limit)
    ).all()
    ids = [u.id for u, _ in rows]
    profiles = {p.user_id: p for p in db.session.execute(
        select(Profile).where(Profile.user_id.in_(ids))).scalars()} if ids else {}
    items = [friend_view(u, profiles.get(u.id), since) for u, since in rows]
    return Page(items=items, page=page, limit=limit, total=total)


@allow(*COLLEGE_ROLES, feature="social")
def unfriend(actor: User, user_id: str) -> None:
    if user_id == actor.id:
        raise BadRequest("You cannot unfriend yourself")
    friendship = _friendship(actor.id, user_id, lock=True)
    if friendship is None:
        raise NotFound("You are not friends with this user")
    db.session.delete(friendship)
    db.session.flush()
