from django.urls import path

from .views import calendar, coordination, feedback, relationship

app_name = "goals"
urlpatterns = [
    path("me/mentoring/", relationship.my_mentoring, name="my_mentoring"),
    path("relationships/<int:pk>/", relationship.relationship_home, name="relationship_home"),
    path("relationships/<int:pk>/agreement/", relationship.agreement_edit, name="agreement_edit"),
    path(
        "relationships/<int:pk>/agreement/sign/",
        relationship.agreement_sign,
        name="agreement_sign",
    ),
    path("relationships/<int:pk>/goals/new/", relationship.goal_create, name="goal_create"),
    path("goals/<int:pk>/edit/", relationship.goal_edit, name="goal_edit"),
    path("goals/<int:pk>/history/", relationship.goal_history, name="goal_history"),
    path("milestones/<int:pk>/toggle/", relationship.milestone_toggle, name="milestone_toggle"),
    path("goals/<int:pk>/milestones/new/", relationship.milestone_add, name="milestone_add"),
    path("milestones/<int:pk>/edit/", relationship.milestone_edit, name="milestone_edit"),
    path("milestones/<int:pk>/remove/", relationship.milestone_remove, name="milestone_remove"),
    path(
        "relationships/<int:pk>/check-ins/new/",
        relationship.check_in_create,
        name="check_in_create",
    ),
    path("check-ins/<int:pk>/confirm/", relationship.check_in_confirm, name="check_in_confirm"),
    path("check-ins/<int:pk>/comment/", relationship.check_in_comment, name="check_in_comment"),
    path("relationships/<int:pk>/notes/", relationship.private_note_add, name="private_note_add"),
    path("notes/<int:pk>/edit/", relationship.private_note_edit, name="private_note_edit"),
    path("notes/<int:pk>/delete/", relationship.private_note_delete, name="private_note_delete"),
    path(
        "relationships/<int:pk>/close/", relationship.relationship_close, name="relationship_close"
    ),
    path("check-ins/<int:pk>/pulse/", feedback.pulse_give, name="pulse_give"),
    path("relationships/<int:pk>/survey/<str:stage>/", feedback.survey, name="survey"),
    path("relationships/<int:pk>/reflections/", feedback.reflections, name="reflections"),
    path("reflections/<int:pk>/share/", feedback.reflection_share, name="reflection_share"),
    path("me/calendar/", calendar.calendar_settings, name="calendar_settings"),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path("cohorts/<int:pk>/feedback/", coordination.cohort_feedback, name="cohort_feedback"),
    path(
        "cohorts/<int:pk>/relationships/",
        coordination.relationship_list,
        name="relationship_list",
    ),
]
