from django.urls import URLPattern, URLResolver, path

from .views import closeout, dashboard, exports

app_name = "reports"
urlpatterns: list[URLPattern | URLResolver] = [
    # Exports and the close-out report (a cohort's coordinators only).
    path("cohorts/<int:pk>/exports/", exports.cohort_exports, name="cohort_exports"),
    path(
        "cohorts/<int:pk>/exports/<slug:table>.<slug:file_format>",
        exports.cohort_export,
        name="cohort_export",
    ),
    path("cohorts/<int:pk>/close-out/", closeout.closeout_report, name="closeout"),
    path("cohorts/<int:pk>/close-out.pdf", closeout.closeout_pdf, name="closeout_pdf"),
    # Dashboards (a program's coordinators and admins; the organisation's: program creators
    # too), the relationships behind each figure, and the nudge.
    path("cohorts/<int:pk>/dashboard/", dashboard.cohort_dashboard, name="cohort_dashboard"),
    path(
        "cohorts/<int:pk>/dashboard/relationships/",
        dashboard.cohort_drilldown,
        name="cohort_drilldown",
    ),
    path("programs/<int:pk>/dashboard/", dashboard.program_dashboard, name="program_dashboard"),
    path(
        "programs/<int:pk>/dashboard/relationships/",
        dashboard.program_drilldown,
        name="program_drilldown",
    ),
    path("organisation/", dashboard.organisation_dashboard, name="organisation_dashboard"),
    path(
        "organisation/relationships/",
        dashboard.organisation_drilldown,
        name="organisation_drilldown",
    ),
    path("relationships/<int:pk>/nudge/", dashboard.relationship_nudge, name="relationship_nudge"),
]
