from __future__ import annotations

from django.urls import path

from .views import unsubscribe

app_name = "notifications"

urlpatterns = [
    path("unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
]
