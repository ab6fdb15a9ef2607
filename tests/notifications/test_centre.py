"""The notification centre, the unread count in the menu and the to-dos on the home page: a
person reaches, follows and marks only their own notifications, and is never sent off the site."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notify
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

CENTRE = reverse("notifications:centre")


def text_of(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def aged(user, count: int, **fields) -> list[Notification]:
    """`count` notifications for `user`, one minute apart, the last one the newest."""
    made = NotificationFactory.create_batch(count, recipient=user, **fields)
    start = timezone.now() - dt.timedelta(hours=1)
    for minutes, notification in enumerate(made):
        notification.created_at = start + dt.timedelta(minutes=minutes)
        notification.save(update_fields=["created_at"])
    return made


# --- The centre ------------------------------------------------------------------------------


def test_it_lists_a_persons_own_notifications_newest_first(
    client, mentee, mentor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=Notification.Kind.CHECK_IN_LOGGED, recipient=mentee, about=None, context={})
    older, newer = aged(mentee, 2)
    NotificationFactory(recipient=mentor, title="For Maya only")
    client.force_login(mentee)

    page = text_of(client.get(CENTRE))

    assert "For Maya only" not in page
    assert page.index(newer.title) < page.index(older.title)
    assert Notification.objects.filter(recipient=mentee).count() == 3
    for notification in Notification.objects.filter(recipient=mentee):
        assert reverse("notifications:open", args=[notification.pk]) in page


def test_it_marks_the_unread_ones(client, mentee):
    read, unread = aged(mentee, 2)
    read.read_at = timezone.now()
    read.save(update_fields=["read_at"])
    client.force_login(mentee)

    page = text_of(client.get(CENTRE))

    assert page.count('<span class="badge badge--info">Unread</span>') == 1
    assert f"<strong>{unread.title}</strong>" in page
    assert f"<strong>{read.title}</strong>" not in page
    assert page.count(">Mark as read<") == 1
    assert "Mark all as read" in page


def test_it_says_what_will_appear_when_there_is_nothing(client, outsider):
    client.force_login(outsider)

    page = text_of(client.get(CENTRE))

    assert "No notifications yet" in page
    assert "Reminders and messages for you will appear here" in page
    assert "Mark all as read" not in page


def test_it_pages_at_fifty(client, mentee):
    made = aged(mentee, 51)
    client.force_login(mentee)

    first = text_of(client.get(CENTRE))
    second = text_of(client.get(CENTRE, {"page": 2}))

    assert first.count(">Mark as read<") == 50
    assert "Page 1 of 2" in first
    assert made[0].title not in first  # the oldest is on page 2
    assert made[0].title in second


def test_it_asks_an_anonymous_visitor_to_sign_in(client):
    notification = NotificationFactory()

    for response in (
        client.get(CENTRE),
        client.get(reverse("notifications:open", args=[notification.pk])),
        client.post(reverse("notifications:read", args=[notification.pk])),
        client.post(reverse("notifications:read_all")),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    notification.refresh_from_db()
    assert notification.is_unread


@pytest.mark.parametrize("viewer", ["mentor", "outsider"])
def test_it_gives_404_for_someone_elses_notification(client, request, mentee, viewer):
    notification = NotificationFactory(recipient=mentee, url="/me/mentoring/")
    client.force_login(request.getfixturevalue(viewer))

    assert client.get(reverse("notifications:open", args=[notification.pk])).status_code == 404
    assert client.post(reverse("notifications:read", args=[notification.pk])).status_code == 404
    client.post(reverse("notifications:read_all"))

    notification.refresh_from_db()
    assert notification.is_unread


def test_it_marks_one_read_and_returns_to_the_same_page(client, mentee):
    one, other = aged(mentee, 2)
    client.force_login(mentee)

    response = client.post(reverse("notifications:read", args=[one.pk]), {"page": "2"})

    assert response.status_code == 302
    assert response.url == f"{CENTRE}?page=2"
    one.refresh_from_db()
    other.refresh_from_db()
    assert not one.is_unread
    assert other.is_unread


def test_it_marks_nothing_read_on_a_get(client, mentee):
    notification = NotificationFactory(recipient=mentee)
    client.force_login(mentee)

    assert client.get(reverse("notifications:read", args=[notification.pk])).status_code == 405
    assert client.get(reverse("notifications:read_all")).status_code == 405
    notification.refresh_from_db()
    assert notification.is_unread


def test_it_marks_all_of_ones_own_read(client, mentee, mentor):
    mine = aged(mentee, 3)
    theirs = NotificationFactory(recipient=mentor)
    client.force_login(mentee)

    response = client.post(reverse("notifications:read_all"), follow=True)

    assert "Marked 3 notifications as read." in text_of(response)
    assert not Notification.objects.filter(pk__in=[n.pk for n in mine], read_at=None).exists()
    theirs.refresh_from_db()
    assert theirs.is_unread


def test_following_an_item_marks_it_read_and_lands_on_its_page(client, mentee):
    notification = NotificationFactory(recipient=mentee, url="/me/mentoring/?tab=goals")
    client.force_login(mentee)

    response = client.get(reverse("notifications:open", args=[notification.pk]))

    assert response.status_code == 302
    assert response.url == "/me/mentoring/?tab=goals"
    notification.refresh_from_db()
    assert notification.read_at is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\\/evil.example/",
        "javascript:alert(1)",
        "evil.example/path",
        " //evil.example/",
        "",
    ],
)
def test_it_never_follows_a_url_off_the_site(client, mentee, url):
    notification = NotificationFactory(recipient=mentee, url=url)
    client.force_login(mentee)

    response = client.get(reverse("notifications:open", args=[notification.pk]))

    assert response.status_code == 302
    assert response.url == CENTRE
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_it_lists_the_centre_in_a_fixed_number_of_queries(
    client, mentee, django_assert_num_queries
):
    aged(mentee, 2)
    client.force_login(mentee)
    client.get(CENTRE)  # warm up per-process caches

    # Session and user; the menu (its sections and unread count, in one query); the page's
    # count and rows.
    with CaptureQueriesContext(connection) as few:
        assert client.get(CENTRE).status_code == 200
    assert len(few) == 5
    aged(mentee, 120)
    with django_assert_num_queries(len(few)):
        assert client.get(CENTRE).status_code == 200


# --- The menu --------------------------------------------------------------------------------


def unread_label(page: str) -> list[str]:
    """The menu entry's name as a screen reader reads it: its label, or else its text."""
    links = re.findall(r'<a class="nav-link" href="/notifications/"([^>]*)>(.*?)</a>', page)
    return [
        label.group(1) if (label := re.search(r'aria-label="([^"]*)"', attributes)) else text
        for attributes, text in links
    ]


def test_it_shows_the_unread_count_in_the_menu(client, mentee, mentor):
    read, *_ = aged(mentee, 4)
    read.read_at = timezone.now()
    read.save(update_fields=["read_at"])
    NotificationFactory(recipient=mentor)  # someone else's never counts
    client.force_login(mentee)

    page = text_of(client.get(reverse("core:home")))

    # Drawn twice (wide and narrow screens), read the same both times.
    assert unread_label(page) == ["Notifications, 3 unread"] * 2
    assert '<span class="badge badge--accent">3</span>' in page


def test_it_shows_no_count_when_everything_is_read(client, mentee):
    client.force_login(mentee)

    page = text_of(client.get(reverse("core:home")))

    assert unread_label(page) == ["Notifications"] * 2


def test_it_marks_the_centre_as_the_current_menu_entry(client, mentee):
    client.force_login(mentee)

    page = text_of(client.get(CENTRE))

    assert '<a class="nav-link" href="/notifications/" aria-current="page">' in page


def test_it_counts_unread_notifications_in_one_query_for_both_menus(client, mentee):
    aged(mentee, 2)
    client.force_login(mentee)

    with CaptureQueriesContext(connection) as queries:
        text_of(client.get(reverse("programs:profile_edit")))

    counts = [
        q["sql"]
        for q in queries.captured_queries
        if "notifications_notification" in q["sql"] and "COUNT(" in q["sql"].upper()
    ]
    assert len(counts) == 1


def test_it_shows_no_notifications_entry_to_an_anonymous_visitor(client):
    page = text_of(client.get(reverse("core:home")))

    assert 'href="/notifications/"' not in page


# --- Home page to-dos ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["mentor", "mentee", "coordinator", "outsider"])
def test_it_lists_to_dos_on_home_unread_first_then_newest(client, request, persona, cohort):
    user = request.getfixturevalue(persona)
    oldest_unread, old_read, new_read, newest_unread = aged(user, 4)
    for notification in (old_read, new_read):
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    NotificationFactory(title="Somebody else's reminder")
    client.force_login(user)

    page = text_of(client.get(reverse("core:home")))

    assert "Your to-dos" in page
    positions = [page.index(n.title) for n in (newest_unread, oldest_unread, new_read, old_read)]
    assert positions == sorted(positions)
    assert "Somebody else's reminder" not in page
    assert f'href="{CENTRE}"' in page


def test_it_lists_at_most_five_to_dos(client, mentee):
    made = aged(mentee, 7)
    client.force_login(mentee)

    page = text_of(client.get(reverse("core:home")))

    shown = [n for n in made if n.title in page]
    assert shown == made[2:]


def test_it_keeps_what_home_showed_before(client, mentee):
    aged(mentee, 1)
    client.force_login(mentee)

    page = text_of(client.get(reverse("core:home")))

    assert "Your mentoring" in page
    assert "Leadership Mentoring" in page


def test_it_says_nothing_is_waiting_on_home_when_there_are_no_to_dos(client, mentee):
    client.force_login(mentee)

    page = text_of(client.get(reverse("core:home")))

    assert "Nothing is waiting for you" in page


def test_it_leaves_the_newcomers_home_as_it_was_until_something_arrives(client, outsider):
    client.force_login(outsider)

    page = text_of(client.get(reverse("core:home")))

    assert "not in a program yet" in page.lower()
    assert "Your to-dos" not in page
