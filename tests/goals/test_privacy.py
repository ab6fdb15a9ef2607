"""The hard requirement: a private note's or a private reflection's text never appears in any
response to anyone but its author — the partner's pages, the coordinator's pages, the Django
admin's lists and change pages, exports, emails and calendar feeds. A shared reflection is for
the others in the relationship: the partner reads it, the coordinator does not.

Each secret carries a unique marker; every page the partner, the coordinator and an admin can
reach is fetched and searched for it. The author's own pages must show it, so the searches
would fail if the markers were not where we think."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from goals import selectors, services
from goals.models import Agreement, PrivateNote, Reflection
from matching import services as matching_services
from notifications.models import Notification, OutboundEmail
from tests.factories import RelationshipFactory
from tests.goals.test_feedback_views import log_check_in, member

pytestmark = pytest.mark.django_db

NOTE = "zq-private-note-7f3a"
CHECK_IN_NOTE = "zq-check-in-note-91bc"
REFLECTION = "zq-private-reflection-c2d8"
SHARED = "zq-shared-reflection-54e1"
PRIVATE_MARKERS = (NOTE, CHECK_IN_NOTE, REFLECTION)
ALL_MARKERS = (*PRIVATE_MARKERS, SHARED)


@pytest.fixture
def pair(cohort, mentor, mentee):
    return RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)


@pytest.fixture
def secrets(pair, mentee):
    """Mo Mentee's private note, a check-in with a private note, a private reflection and a
    shared one, and a next meeting so the calendar feeds have an event."""
    services.agreement_draft(relationship=pair)
    check_in = log_check_in(
        pair,
        mentee,
        private_note=CHECK_IN_NOTE,
        next_meeting_at=timezone.now() + dt.timedelta(days=7),
    )
    note = services.private_note_add(author=mentee, relationship=pair, text=NOTE)
    private = services.reflection_write(
        author=mentee, relationship=pair, stage="start", prompt="Why?", text=REFLECTION
    )
    shared = services.reflection_write(
        author=mentee, relationship=pair, stage="start", prompt="Why?", text=SHARED, shared=True
    )
    return {"check_in": check_in, "note": note, "private": private, "shared": shared}


def _body(response) -> str:
    """Everything a response carries, xlsx unzipped, as text."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            content = b"".join(archive.read(name) for name in archive.namelist())
    return content.decode("utf-8", errors="replace") + str(dict(response.headers))


def _pages(pair, secrets) -> list[str]:
    check_in = secrets["check_in"]
    cohort = pair.cohort_id
    pages = [
        reverse("goals:my_mentoring"),
        reverse("goals:relationship_home", args=[pair.pk]),
        reverse("goals:agreement_edit", args=[pair.pk]),
        # The author's own note pages (anyone else gets a 404).
        *(
            reverse("goals:private_note_edit", args=[note.pk])
            for note in PrivateNote.objects.filter(relationship=pair)
        ),
        reverse("goals:check_in_create", args=[pair.pk]),
        reverse("goals:relationship_close", args=[pair.pk]),
        reverse("goals:reflections", args=[pair.pk]),
        reverse("goals:survey", args=[pair.pk, "midpoint"]),
        reverse("goals:survey", args=[pair.pk, "final"]),
        reverse("goals:calendar_settings"),
        reverse("goals:cohort_feedback", args=[cohort]),
        reverse("goals:relationship_list", args=[cohort]),
        # The dashboards, their charts' data tables and the relationships behind each figure.
        reverse("reports:cohort_dashboard", args=[cohort]),
        reverse("reports:program_dashboard", args=[pair.cohort.program_id]),
        reverse("reports:organisation_dashboard"),
        reverse("reports:cohort_drilldown", args=[cohort]) + "?figure=all",
        reverse("reports:cohort_drilldown", args=[cohort]) + "?figure=active",
        reverse("reports:program_drilldown", args=[pair.cohort.program_id]) + "?figure=all",
        reverse("reports:organisation_drilldown") + "?figure=all",
        reverse("matching:relationship_end", args=[pair.pk]),
        reverse("programs:enrolment_export", args=[cohort, "csv"]),
        reverse("programs:enrolment_export", args=[cohort, "xlsx"]),
        # The cohort's exports and close-out report (the PDF is drawn from the same body as
        # the page; tests/reports/test_closeout.py searches the document that feeds it).
        reverse("reports:cohort_exports", args=[cohort]),
        *(
            reverse("reports:cohort_export", args=[cohort, table, file_format])
            for table in ("participants", "relationships", "feedback")
            for file_format in ("csv", "xlsx")
        ),
        reverse("reports:closeout", args=[cohort]),
        reverse("reports:closeout_pdf", args=[cohort]),
        # The viewer's own notification centre, menu and home to-dos, and the admin's list of
        # everyone's notifications (titles are email subjects: they must not quote a note).
        reverse("core:home"),
        reverse("notifications:centre"),
        reverse("admin:notifications_notification_changelist"),
    ]
    pages += [
        reverse("admin:notifications_notification_change", args=[pk])
        for pk in Notification.objects.values_list("pk", flat=True)
    ]
    # The outbox (every email's subject and body until sent) and the health report people read.
    pages += [reverse("admin:notifications_outboundemail_changelist"), "/healthz?full=1"]
    pages += [
        reverse("admin:notifications_outboundemail_change", args=[pk])
        for pk in OutboundEmail.objects.values_list("pk", flat=True)
    ]
    for model, pk in (
        ("goals_privatenote", secrets["note"].pk),
        ("goals_reflection", secrets["private"].pk),
        ("goals_reflection", secrets["shared"].pk),
        ("goals_checkin", check_in.pk),
        ("matching_relationship", pair.pk),
    ):
        pages += [
            reverse(f"admin:{model}_changelist"),
            reverse(f"admin:{model}_change", args=[pk]),
            reverse(f"admin:{model}_delete", args=[pk]),
            reverse(f"admin:{model}_history", args=[pk]),
        ]
    return pages


@pytest.mark.parametrize("viewer", ["mentor", "coordinator", "admin_user"])
def test_it_never_shows_private_text_to_anyone_but_its_author(
    client, request, viewer, pair, secrets
):
    user = request.getfixturevalue(viewer)
    client.force_login(user)
    # A shared reflection is for the others in the relationship, not for the coordinator or
    # the admin pages.
    hidden = PRIVATE_MARKERS if viewer == "mentor" else ALL_MARKERS
    reached = 0
    for url in _pages(pair, secrets):
        response = client.get(url)
        reached += response.status_code == 200
        body = _body(response)
        for marker in hidden:
            assert marker not in body, (viewer, url, marker)
    assert reached >= 5, viewer  # the viewer did see real pages, not only refusals


def test_it_shows_the_partner_a_shared_reflection(client, mentor, pair, secrets):
    client.force_login(mentor)

    body = client.get(reverse("goals:reflections", args=[pair.pk])).content.decode()

    assert SHARED in body
    assert REFLECTION not in body


def test_it_shows_the_author_their_own_notes_and_reflections(client, mentee, pair, secrets):
    client.force_login(mentee)

    reflections = client.get(reverse("goals:reflections", args=[pair.pk])).content.decode()
    home = selectors.relationship_home(relationship=pair, user=mentee)

    assert REFLECTION in reflections
    assert SHARED in reflections
    assert {n.text for n in home.private_notes} == {NOTE, CHECK_IN_NOTE}


def test_it_shows_the_author_their_notes_on_the_relationship_page(client, mentee, pair, secrets):
    client.force_login(mentee)

    home = client.get(reverse("goals:relationship_home", args=[pair.pk]))

    assert home.status_code == 200
    assert NOTE in home.content.decode()
    edit = client.get(reverse("goals:private_note_edit", args=[secrets["note"].pk]))
    assert NOTE in edit.content.decode()


def test_it_does_not_search_private_text_in_the_admin(client, admin_user, pair, secrets):
    client.force_login(admin_user)

    for model in ("goals_privatenote", "goals_reflection"):
        response = client.get(reverse(f"admin:{model}_changelist"), {"q": NOTE[:12]})
        assert response.context["cl"].result_count == 0, model


def test_it_lets_nobody_add_or_edit_notes_or_reflections_in_the_admin(client, admin_user, secrets):
    client.force_login(admin_user)
    note = secrets["note"]

    assert client.get(reverse("admin:goals_privatenote_add")).status_code == 403
    assert client.get(reverse("admin:goals_reflection_add")).status_code == 403
    client.post(reverse("admin:goals_privatenote_change", args=[note.pk]), {"text": "Changed"})
    assert PrivateNote.objects.get(pk=note.pk).text == NOTE


def test_it_keeps_private_text_out_of_every_calendar_feed(
    client, mentee, mentor, coordinator, admin_user, pair, secrets
):
    for user in (mentee, mentor, coordinator, admin_user):
        token = services.calendar_feed_get(user=user).token
        body = client.get(reverse("goals:calendar_feed", args=[token])).content.decode()
        for marker in ALL_MARKERS:
            assert marker not in body, (user, marker)


def test_it_keeps_private_text_out_of_every_email(
    mentee, mentor, coordinator, pair, mailoutbox, django_capture_on_commit_callbacks
):
    mo, maya = member(pair, mentee), member(pair, mentor)
    with django_capture_on_commit_callbacks(execute=True):
        services.agreement_draft(relationship=pair)
        services.private_note_add(author=mentee, relationship=pair, text=NOTE)
        services.reflection_write(
            author=mentee, relationship=pair, stage="start", prompt="Why?", text=REFLECTION
        )
        # A check-in logged with a private note: the partner is emailed about the meeting.
        log_check_in(pair, mentee, private_note=CHECK_IN_NOTE)
        agreement = Agreement.objects.get(relationship=pair)
        services.agreement_sign(agreement=agreement, member=maya, version=agreement.version)
    with django_capture_on_commit_callbacks(execute=True):
        # A change after a signature: the others are asked to sign again.
        services.agreement_update(
            agreement=agreement,
            member=mo,
            base_version=agreement.version,
            text="We meet every two weeks.",
            meeting_cadence_days=14,
            meeting_mode="video",
            duration_weeks=26,
        )
    with django_capture_on_commit_callbacks(execute=True):
        matching_services.relationship_close(
            relationship=pair, outcome="achieved", closed_by=coordinator
        )

    subjects = [m.subject for m in mailoutbox]
    assert len(mailoutbox) >= 4, subjects  # logged, agreement changed, closed (both members)
    for message in mailoutbox:
        parts = [message.subject, message.body, *(c for c, _ in message.alternatives)]
        for marker in PRIVATE_MARKERS:
            assert all(marker not in part for part in parts), (message.subject, marker)
    for email in OutboundEmail.objects.all():
        for marker in PRIVATE_MARKERS:
            assert marker not in email.subject + email.text_body + email.html_body


def test_it_reads_reflections_as_own_plus_shared(mentee, mentor, pair, secrets):
    # The rule the reflections page uses, spelled out: the partner never gets a private one.
    assert set(
        Reflection.objects.filter(relationship=pair, author=mentee).values_list("text", flat=True)
    ) == {REFLECTION, SHARED}
    assert selectors.relationship_home(relationship=pair, user=mentor).reflections == [
        secrets["shared"]
    ]


def test_it_gives_the_coordinator_no_reflections_in_the_home_selector(coordinator, pair, secrets):
    # "Shared" means with the others in the relationship, never with the coordinator.
    assert selectors.relationship_home(relationship=pair, user=coordinator).reflections == []


GOALS_MODELS = [
    "agreement",
    "goal",
    "checkin",
    "privatenote",
    "pulse",
    "surveyresponse",
    "reflection",
    "calendarfeed",
]


def test_it_lists_and_searches_every_goals_model_in_the_admin(client, admin_user, secrets):
    services.calendar_feed_get(user=admin_user)
    client.force_login(admin_user)

    for name in GOALS_MODELS:
        url = reverse(f"admin:goals_{name}_changelist")
        assert client.get(url).status_code == 200, name
        assert client.get(url, {"q": "mo"}).status_code == 200, name
