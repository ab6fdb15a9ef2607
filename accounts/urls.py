from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("settings/", views.settings_edit, name="settings"),
    path("settings/emails/", views.settings_emails, name="settings_emails"),
]
