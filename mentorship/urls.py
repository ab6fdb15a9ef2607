from django.contrib import admin
from django.urls import include, path

from matching.views.enrolment import my_enrolment
from programs.urls import app_name as programs_app_name
from programs.urls import urlpatterns as programs_urlpatterns

admin.site.site_header = "Mentorship administration"
admin.site.site_title = "Mentorship admin"
admin.site.index_title = "Programs, people and relationships"

# A participant's enrolment page is one of the programs app's pages, but it also shows their
# partners, which the matching app knows about. Matching builds on programs, so the view is
# matching's and is wired into the programs namespace here, where the apps meet.
programs_patterns = [
    *programs_urlpatterns,
    path("me/enrolments/<int:pk>/", my_enrolment, name="my_enrolment"),
]

urlpatterns = [
    path("", include("core.urls")),
    path("", include((programs_patterns, programs_app_name))),
    path("", include("matching.urls")),
    path("", include("goals.urls")),
    path("", include("notifications.urls")),
    path("", include("reports.urls")),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
