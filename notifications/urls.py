from __future__ import annotations

from django.urls import path

from .views import centre, unsubscribe

app_name = "notifications"

urlpatterns = [
    path("unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
    path("notifications/", centre.centre, name="centre"),
    path("notifications/read-all/", centre.notification_mark_all_read, name="read_all"),
    path("notifications/<int:pk>/open/", centre.notification_open, name="open"),
    path("notifications/<int:pk>/read/", centre.notification_mark_read, name="read"),
]
