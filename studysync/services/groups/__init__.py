"""Study groups: creation and editing, browsing, membership and join requests.

- `lookups`: finding groups and memberships, the visibility check, the row locks;
- `membership`: join, leave, add/replace/remove members, approve/reject requests — the lock
  protocol that keeps `max_members` and `group_limit` true under concurrency;
- `editing`: create, edit, archive;
- `views`: the typed results every surface shapes, and the read-only entry points.

Other services and the surfaces import from here.
"""
from .editing import create_group, set_archived, update_group
from .lookups import (
    ACTIVE,
    GROUP_NOT_FOUND,
    LEADER,
    MEMBER,
    NOT_MEMBER,
    PENDING,
    active_group_counts,
    active_member_ids,
    can_manage,
    classroom_of,
    counts_toward_limit,
    ensure_active_member,
    get_group_or_404,
    get_visible_group,
    group_ids_of,
    group_limit_of,
    is_active_member,
    lock_group,
    lock_users,
    membership_of,
)
from .membership import (
    add_members,
    approve_request,
    found_group,
    join_group,
    leave_group,
    reject_request,
    remove_members,
    replace_members,
)
from .views import (
    GroupCard, GroupDetail, JoinRequest, Member, MembershipResult, MyGroup, Standing, card, get_group,
    list_classroom_groups, list_groups, list_members, list_requests, my_groups, standing,
)
