from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Notification, NotificationPreference, OutboundEmail
from .services import notification_resend


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = [
        "subject",
        "recipients",
        "status",
        "attempts",
        "possible_duplicate",
        "created_at",
        "sent_at",
    ]
    # "Failed" with a possible duplicate: stuck twice while sending, left for a person to judge
    # (notifications.services.outbound states the rule).
    list_filter = ["status", "possible_duplicate", "created_at"]
    search_fields = ["subject", "to"]
    date_hierarchy = "created_at"
    # Bodies can hold sign-in links: shown to nobody, even admins.
    exclude = ["text_body", "html_body"]
    readonly_fields = [
        "to",
        "subject",
        "status",
        "attempts",
        "possible_duplicate",
        "last_error",
        "due_at",
        "claimed_at",
        "created_at",
        "sent_at",
    ]

    @admin.display(description="To")
    def recipients(self, email: OutboundEmail) -> str:
        return ", ".join(email.to)

    def has_add_permission(self, request) -> bool:
        return False


class ReadFilter(admin.SimpleListFilter):
    title = "read"
    parameter_name = "read"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("no", "Unread"), ("yes", "Read")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(read_at__isnull=self.value() == "no")
        return queryset


class EmailStatusFilter(admin.SimpleListFilter):
    title = "email status"
    parameter_name = "email_status"
    NONE = "none"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [*OutboundEmail.Status.choices, (self.NONE, "No email")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == self.NONE:
            return queryset.filter(outbound_email__isnull=True)
        if self.value() in OutboundEmail.Status.values:
            return queryset.filter(outbound_email__status=self.value())
        return queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: notifications are written by notify() alone. The one change an admin makes is
    to resend an email that failed, through notification_resend."""

    list_display = [
        "title",
        "recipient_or_email",
        "kind",
        "delivery",
        "is_read",
        "email_status",
        "created_at",
    ]
    # One query for the page however many rows: the person and the email come joined.
    list_select_related = ["recipient", "outbound_email"]
    list_filter = ["kind", "delivery", ReadFilter, EmailStatusFilter]
    search_fields = ["email", "title", "key", "recipient__display_name", "recipient__email"]
    date_hierarchy = "created_at"
    actions = ["resend_email"]

    @admin.display(description="Recipient", ordering="email")
    def recipient_or_email(self, notification: Notification) -> str:
        if notification.recipient is None:
            return notification.email
        return f"{notification.recipient.display_name or notification.email} <{notification.email}>"

    @admin.display(description="Read?", boolean=True, ordering="read_at")
    def is_read(self, notification: Notification) -> bool:
        return notification.read_at is not None

    @admin.display(description="Email status", ordering="outbound_email__status")
    def email_status(self, notification: Notification) -> str:
        if notification.outbound_email is None:
            return "No email"
        return notification.outbound_email.get_status_display()

    @admin.action(
        description="Resend the email of the selected notifications (failed only)",
        permissions=["resend"],
    )
    def resend_email(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        resent = skipped = 0
        for notification in queryset.select_related("outbound_email"):
            if notification_resend(notification=notification):
                resent += 1
            else:
                skipped += 1
        if resent:
            self.message_user(request, f"Queued {resent} email(s) to be sent again.")
        if skipped:
            self.message_user(
                request,
                f"{skipped} not resent: only an email that failed can be sent again. A sent "
                "email's text is erased once it leaves (it can hold sign-in links), and one "
                "still queued is on its way.",
                messages.WARNING,
            )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        # View-only pages; the resend action checks its own permission below.
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.change_outboundemail")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """Read-only: a person changes their own preferences, on their settings page."""

    list_display = ["user", "kind", "email", "updated_at"]
    list_select_related = ["user"]
    list_filter = ["kind", "email"]
    search_fields = ["user__email", "user__display_name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: NotificationPreference | None = None
    ) -> bool:
        return False
