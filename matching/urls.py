from django.urls import path

from .views import relationships, requests, runs, setup

app_name = "matching"
urlpatterns = [
    # Coordinators: running matching and reviewing a run
    path("cohorts/<int:pk>/matching/", runs.cohort_matching, name="cohort_matching"),
    path("cohorts/<int:pk>/matching/run/", runs.run_create, name="run_create"),
    path("runs/compare/", runs.run_compare, name="run_compare"),
    path("runs/<int:pk>/", runs.run_detail, name="run_detail"),
    path("runs/<int:pk>/progress/", runs.run_progress, name="run_progress"),
    path("runs/<int:pk>/accept-all/", runs.run_accept_all, name="run_accept_all"),
    path("runs/<int:pk>/rerun/", runs.run_rerun, name="run_rerun"),
    path("runs/<int:pk>/publish/", runs.run_publish, name="run_publish"),
    path("proposals/<int:pk>/decide/", runs.proposal_decide, name="proposal_decide"),
    path("proposals/<int:pk>/lock/", runs.proposal_lock, name="proposal_lock"),
    path("proposals/<int:pk>/swap/", runs.proposal_swap, name="proposal_swap"),
    # Coordinators: settings and exclusions
    path("programs/<int:pk>/matching-settings/", setup.config_edit, name="config_edit"),
    path("cohorts/<int:pk>/exclusions/", setup.exclusion_list, name="exclusion_list"),
    path("exclusions/<int:pk>/delete/", setup.exclusion_delete, name="exclusion_delete"),
    # Relationships: ending early, finding a replacement (the cohort's list is in goals)
    path("relationships/<int:pk>/end/", relationships.relationship_end, name="relationship_end"),
    path(
        "relationships/<int:pk>/replace/",
        relationships.relationship_replace,
        name="relationship_replace",
    ),
    # Self-service
    path("me/enrolments/<int:pk>/mentors/", requests.recommendations, name="recommendations"),
    path(
        "me/enrolments/<int:pk>/mentors/withdraw/",
        requests.request_withdraw,
        name="request_withdraw",
    ),
    path("me/requests/", requests.request_inbox, name="request_inbox"),
    path("requests/<int:pk>/respond/", requests.request_respond, name="request_respond"),
    path("requests/<int:pk>/answer/", requests.request_answer, name="request_answer"),
]
