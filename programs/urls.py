from django.urls import path

from .views import (
    announcements,
    cohorts,
    enrolments,
    imports,
    invitations,
    jobs,
    participation,
    programs,
    vocabulary,
)

app_name = "programs"
urlpatterns = [
    # Coordinators: programs
    path("programs/", programs.program_list, name="program_list"),
    path("programs/new/", programs.program_create, name="program_create"),
    path("programs/<int:pk>/", programs.program_detail, name="program_detail"),
    path("programs/<int:pk>/edit/", programs.program_edit, name="program_edit"),
    path(
        "programs/<int:pk>/coordinators/",
        programs.program_coordinators,
        name="program_coordinators",
    ),
    path("programs/<int:pk>/questions/", programs.program_questions, name="program_questions"),
    path("programs/<int:pk>/cohorts/new/", cohorts.cohort_create, name="cohort_create"),
    # Coordinators: cohorts
    path("cohorts/<int:pk>/", cohorts.cohort_detail, name="cohort_detail"),
    path("cohorts/<int:pk>/edit/", cohorts.cohort_edit, name="cohort_edit"),
    path("cohorts/<int:pk>/transition/", cohorts.cohort_transition, name="cohort_transition"),
    path("cohorts/<int:pk>/clone/", cohorts.cohort_clone, name="cohort_clone"),
    path("cohorts/<int:pk>/questions/", cohorts.cohort_questions, name="cohort_questions"),
    path(
        "cohorts/<int:pk>/application-link/",
        cohorts.cohort_link_rotate,
        name="cohort_link_rotate",
    ),
    # Coordinators: people in a cohort
    path("cohorts/<int:pk>/people/", enrolments.enrolment_list, name="enrolment_list"),
    path(
        "cohorts/<int:pk>/people/approve-all/",
        enrolments.enrolment_approve_all,
        name="enrolment_approve_all",
    ),
    path(
        "cohorts/<int:pk>/people/status/",
        enrolments.enrolment_bulk_status,
        name="enrolment_bulk_status",
    ),
    path(
        "cohorts/<int:pk>/people/export.<str:file_format>",
        enrolments.enrolment_export,
        name="enrolment_export",
    ),
    path("cohorts/<int:pk>/invitations/", invitations.invitation_list, name="invitation_list"),
    path("cohorts/<int:pk>/import/", imports.import_upload, name="import_upload"),
    path(
        "cohorts/<int:pk>/announcements/",
        announcements.announcement_list,
        name="announcement_list",
    ),
    path(
        "cohorts/<int:pk>/announcements/new/",
        announcements.announcement_create,
        name="announcement_create",
    ),
    path(
        "announcements/<int:pk>/progress/",
        announcements.announcement_progress,
        name="announcement_progress",
    ),
    path("imports/<int:pk>/", imports.import_review, name="import_review"),
    path("imports/<int:pk>/run/", imports.import_run, name="import_run"),
    # Coordinators: following a job over many people (publishing, invitations)
    path("jobs/<int:pk>/", jobs.job_detail, name="job_detail"),
    path("jobs/<int:pk>/progress/", jobs.job_progress, name="job_progress"),
    # Anyone holding a link
    path("invitations/<str:token>/", invitations.invitation_accept, name="invitation_accept"),
    path("invitations/<str:token>/renew/", invitations.invitation_renew, name="invitation_renew"),
    path("apply/<str:token>/", participation.apply, name="apply"),
    # Participants: their own things only (an announcement: its coordinators too)
    path(
        "announcements/<int:pk>/",
        announcements.announcement_detail,
        name="announcement_detail",
    ),
    # "me/enrolments/<int:pk>/" (my_enrolment) is added in mentorship/urls.py: the page shows
    # the participant's partners too, so its view is the matching app's.
    path("me/enrolments/<int:pk>/edit/", participation.my_enrolment_edit, name="my_enrolment_edit"),
    path(
        "me/enrolments/<int:pk>/withdraw/",
        participation.my_enrolment_withdraw,
        name="my_enrolment_withdraw",
    ),
    path("me/profile/", participation.profile_edit, name="profile_edit"),
    # The shared vocabulary
    path("competencies/", vocabulary.competency_review, name="competency_review"),
    path("competencies/suggest/", vocabulary.competency_suggest, name="competency_suggest"),
    path(
        "competencies/<int:pk>/approve/",
        vocabulary.competency_approve,
        name="competency_approve",
    ),
    path("competencies/<int:pk>/merge/", vocabulary.competency_merge, name="competency_merge"),
]
