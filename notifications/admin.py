from django.contrib import admin

from .models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "recipients", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["subject", "to"]
    date_hierarchy = "created_at"
    # Bodies can hold sign-in links: shown to nobody, even admins.
    exclude = ["text_body", "html_body"]
    readonly_fields = ["to", "subject", "status", "attempts", "last_error", "created_at", "sent_at"]

    @admin.display(description="To")
    def recipients(self, email: OutboundEmail) -> str:
        return ", ".join(email.to)

    def has_add_permission(self, request) -> bool:
        return False
