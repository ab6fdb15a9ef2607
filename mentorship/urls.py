from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Mentorship administration"
admin.site.site_title = "Mentorship admin"
admin.site.index_title = "Programs, people and relationships"

urlpatterns = [
    path("", include("core.urls")),
    path("", include("programs.urls")),
    path("", include("matching.urls")),
    path("", include("goals.urls")),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
