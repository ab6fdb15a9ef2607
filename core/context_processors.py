from __future__ import annotations

from functools import cache, cached_property
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.http import HttpRequest

from accounts.models import User
from matching.models import RelationshipMember
from notifications.models import Notification
from programs.models import Enrolment, Program

# The permissions the menu asks about (as `user.has_perm` would), by the fact they answer.
MENU_PERMISSIONS = {
    "can_add_program": ("programs", "add_program"),
    "can_change_competency": ("programs", "change_competency"),
}


@cache
def _menu_sql() -> str:
    """One statement for every question the menu asks about a person. Through the ORM the
    same answers took five queries, or one whose seven subqueries cost more to build than the
    five round trips: the menu is on every page, so it is written out once. Only the tables'
    names (from the models) are part of the text; every value is a parameter (`_menu_params`)."""

    def table(model: type[Any]) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    # What Django's model backend grants: the permission given to the person directly, or to
    # one of their groups.
    has_permission = f"""EXISTS (
        SELECT 1 FROM {table(Permission)} p
        JOIN {table(ContentType)} ct ON ct.id = p.content_type_id
        WHERE ct.app_label = %s AND p.codename = %s AND (
            EXISTS (SELECT 1 FROM {table(User.user_permissions.through)} up
                    WHERE up.permission_id = p.id AND up.user_id = %s)
            OR EXISTS (SELECT 1 FROM {table(Group.permissions.through)} gp
                       JOIN {table(User.groups.through)} ug ON ug.group_id = gp.group_id
                       WHERE gp.permission_id = p.id AND ug.user_id = %s)))"""  # noqa: S608
    return f"""SELECT
        EXISTS (SELECT 1 FROM {table(RelationshipMember)} m
                JOIN {table(Enrolment)} e ON e.id = m.enrolment_id WHERE e.user_id = %s),
        EXISTS (SELECT 1 FROM {table(Program.coordinators.through)} c WHERE c.user_id = %s),
        (SELECT COUNT(*) FROM {table(Notification)} n
         WHERE n.recipient_id = %s AND n.read_at IS NULL),
        {", ".join([has_permission] * len(MENU_PERMISSIONS))}"""  # noqa: S608 (no values)


def _menu_params(user_id: int) -> list[Any]:
    params: list[Any] = [user_id, user_id, user_id]
    for app_label, codename in MENU_PERMISSIONS.values():
        params += [app_label, codename, user_id, user_id]
    return params


def _menu_facts(user: User) -> dict[str, Any]:
    """What the menu needs to know about a signed-in person, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_menu_sql(), _menu_params(user.pk))
        in_relationship, coordinates, unread, *permissions = cursor.fetchone()
    facts: dict[str, Any] = {
        "in_relationship": bool(in_relationship),
        "coordinates": bool(coordinates),
        "unread": int(unread),
    }
    for name, granted in zip(MENU_PERMISSIONS, permissions, strict=True):
        # As the model backend: an active superuser has every permission, an inactive user none.
        facts[name] = user.is_active and (user.is_superuser or bool(granted))
    return facts


class Navigation:
    """Which sections the signed-in person's menu offers. Worked out on first use, in one
    query, and cached, so the menu (drawn twice, for desktop and phone) costs at most one
    query."""

    # URL names of participants' own pages, which live in the programs app but belong to no
    # coordinator section.
    PARTICIPANT_VIEWS = ("apply", "my_enrolment", "invitation_accept", "invitation_renew")

    def __init__(self, user: Any, view_name: str) -> None:
        self.user = user
        self.view_name = view_name

    @cached_property
    def section(self) -> str:
        """The menu entry to mark as current."""
        app, _, name = self.view_name.partition(":")
        if self.view_name == "programs:competency_review":
            return "vocabulary"
        if self.view_name == "programs:profile_edit":
            return "profile"
        if app == "goals" and name != "cohort_feedback":
            return "mentoring"
        if app == "programs" and not name.startswith(self.PARTICIPANT_VIEWS):
            return "programs"
        if app == "reports":  # a cohort's exports and reports are under its program
            return "programs"
        if self.view_name == "accounts:settings":
            return "settings"
        if self.view_name == "notifications:centre":
            return "notifications"
        return "home" if self.view_name == "core:home" else ""

    @cached_property
    def _facts(self) -> dict[str, Any] | None:
        if self.user is None or not self.user.is_authenticated:
            return None
        return _menu_facts(self.user)

    @cached_property
    def shows_programs(self) -> bool:
        facts = self._facts
        # Staff who coordinate nothing find the organisation's programs there.
        return facts is not None and bool(
            facts["can_add_program"] or facts["coordinates"] or self.user.is_staff
        )

    @cached_property
    def shows_mentoring(self) -> bool:
        facts = self._facts
        return facts is not None and bool(facts["in_relationship"])

    @cached_property
    def unread_notifications(self) -> int:
        """How many of the person's notifications are unread, for the menu's count."""
        facts = self._facts
        return 0 if facts is None else int(facts["unread"])

    @cached_property
    def shows_vocabulary(self) -> bool:
        """Who may review the competency vocabulary (programs.selectors.can_manage_vocabulary)."""
        facts = self._facts
        return facts is not None and bool(facts["can_change_competency"])


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {
        "embedded_mode": settings.CELERY_TASK_ALWAYS_EAGER and settings.DEBUG,
        "nav": Navigation(
            getattr(request, "user", None),
            request.resolver_match.view_name if request.resolver_match else "",
        ),
    }
