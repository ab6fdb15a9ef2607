from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from notifications.selectors import notification_unread_count


class Navigation:
    """Which sections the signed-in person's menu offers. Worked out on first use and cached,
    so the menu (drawn twice, for desktop and phone) costs at most one query."""

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
        if self.view_name == "accounts:settings":
            return "settings"
        if self.view_name == "notifications:centre":
            return "notifications"
        return "home" if self.view_name == "core:home" else ""

    @cached_property
    def shows_programs(self) -> bool:
        if not self.user.is_authenticated:
            return False
        return self.user.has_perm("programs.add_program") or self.user.coordinated_programs.exists()

    @cached_property
    def shows_mentoring(self) -> bool:
        if not self.user.is_authenticated:
            return False
        from matching.models import RelationshipMember

        return RelationshipMember.objects.filter(enrolment__user=self.user).exists()

    @cached_property
    def unread_notifications(self) -> int:
        """How many of the person's notifications are unread, for the menu's count."""
        if not self.user.is_authenticated:
            return 0
        return notification_unread_count(user=self.user)

    @cached_property
    def shows_vocabulary(self) -> bool:
        from programs.selectors import can_manage_vocabulary

        return can_manage_vocabulary(user=self.user)


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {
        "embedded_mode": settings.CELERY_TASK_ALWAYS_EAGER and settings.DEBUG,
        "nav": Navigation(
            getattr(request, "user", None),
            request.resolver_match.view_name if request.resolver_match else "",
        ),
    }
