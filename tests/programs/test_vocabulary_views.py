"""The shared vocabulary over HTTP: suggestions for everyone signed in, review (approve, merge)
for people allowed to change competencies."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programs import services
from programs.models import Competency, CompetencySynonym, Enrolment
from tests.factories import CompetencyFactory, EnrolmentCompetencyFactory, UserFactory

pytestmark = pytest.mark.django_db

PERSONAS = ["coordinator", "other_coordinator", "mentor", "mentee", "outsider", "anonymous"]


def allow_vocabulary(user) -> None:
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="programs", codename="change_competency")
    )


@pytest.fixture
def reviewer(coordinator):
    """A coordinator who also looks after the shared vocabulary."""
    allow_vocabulary(coordinator)
    return coordinator


@pytest.fixture
def speaking(db):
    term = CompetencyFactory(name="Public speaking")
    CompetencySynonym.objects.create(competency=term, name="presenting")
    return term


# --- Who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize("with_permission", [False, True])
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_shows_the_review_only_to_people_who_may_change_terms(
    client, sign_in, cohort, mentee, mentor, other_coordinator, outsider, persona, with_permission
):
    user = sign_in(persona)
    if user is not None and with_permission:
        allow_vocabulary(user)

    response = client.get(reverse("programs:competency_review"))

    if persona == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    else:
        assert response.status_code == (200 if with_permission else 403)


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "anonymous"])
def test_it_refuses_review_actions_without_the_permission(
    client, sign_in, cohort, mentee, mentor, other_coordinator, outsider, persona, speaking
):
    sign_in(persona)
    typo = CompetencyFactory(name="Public speakng", status=Competency.Status.SUGGESTED)

    approve = client.post(reverse("programs:competency_approve", args=[typo.pk]))
    merge = client.post(
        reverse("programs:competency_merge", args=[typo.pk]), {"target": "Public speaking"}
    )

    assert (approve.status_code, merge.status_code) == (403, 403)
    typo.refresh_from_db()
    assert typo.status == Competency.Status.SUGGESTED


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_suggests_terms_to_anyone_signed_in(
    client, sign_in, cohort, mentee, mentor, other_coordinator, outsider, persona, speaking
):
    sign_in(persona)

    response = client.get(reverse("programs:competency_suggest"), {"q": "pub"})

    if persona == "anonymous":
        assert response.status_code == 302
    else:
        assert response.status_code == 200
        assert response.json() == {"results": ["Public speaking"]}


# --- Suggestions --------------------------------------------------------------------------------


def test_it_suggests_a_term_through_its_synonym_and_never_a_suggested_one(
    client, outsider, speaking
):
    CompetencyFactory(name="Presenting with data", status=Competency.Status.SUGGESTED)
    CompetencyFactory(name="Presentation design")
    client.force_login(outsider)

    response = client.get(reverse("programs:competency_suggest"), {"q": "presenting"})

    assert response.json() == {"results": ["Public speaking"]}
    assert client.get(reverse("programs:competency_suggest")).json() == {"results": []}


def test_it_ranks_a_name_starting_with_the_query_first_among_many_matches(client, outsider):
    for i in range(31):
        CompetencyFactory(name=f"Agile lead {i:02d}")
    CompetencyFactory(name="Leadership")
    client.force_login(outsider)

    response = client.get(reverse("programs:competency_suggest"), {"q": "lead"})

    assert response.json()["results"][0] == "Leadership"


# --- Review -------------------------------------------------------------------------------------


def test_it_lists_terms_with_status_synonyms_uses_and_who_suggested_them(
    client, reviewer, cohort, mentee, speaking
):
    suggester = UserFactory(display_name="Sam Suggester")
    typo = CompetencyFactory(
        name="Public speakng", status=Competency.Status.SUGGESTED, suggested_by=suggester
    )
    EnrolmentCompetencyFactory(enrolment=Enrolment.objects.get(user=mentee), competency=speaking)
    client.force_login(reviewer)

    page = client.get(reverse("programs:competency_review")).content.decode()

    assert "Public speaking" in page
    assert "presenting" in page
    assert "Suggested by Sam Suggester" in page
    assert reverse("programs:competency_approve", args=[typo.pk]) in page
    assert reverse("programs:competency_approve", args=[speaking.pk]) not in page
    assert reverse("programs:competency_merge", args=[speaking.pk]) in page
    assert "data-confirm=" in page
    assert "competency-input.js" in page


def test_it_filters_by_status_and_search(client, reviewer, speaking):
    CompetencyFactory(name="Negotiation")
    CompetencyFactory(name="Storytelling", status=Competency.Status.SUGGESTED)
    client.force_login(reviewer)
    url = reverse("programs:competency_review")

    def names(**query: str) -> list[str]:
        return [c.name for c in client.get(url, query).context["page"].object_list]

    assert names(status="suggested") == ["Storytelling"]
    assert names(q="present") == ["Public speaking"]  # through its synonym
    assert names(q="zzz") == []
    assert "No terms match" in client.get(url, {"q": "zzz"}).content.decode()


def test_it_approves_a_suggested_term_and_returns_to_the_same_list(client, reviewer):
    term = CompetencyFactory(name="Storytelling", status=Competency.Status.SUGGESTED)
    client.force_login(reviewer)
    back = reverse("programs:competency_review") + "?status=suggested"

    response = client.post(reverse("programs:competency_approve", args=[term.pk]), {"next": back})

    assert response.url == back
    term.refresh_from_db()
    assert term.status == Competency.Status.APPROVED


def test_it_merges_uses_into_an_approved_term(client, reviewer, cohort, mentee, mentor, speaking):
    typo = CompetencyFactory(name="Public speakng", status=Competency.Status.SUGGESTED)
    for user, kind in ((mentee, "develop"), (mentee, "seek"), (mentor, "offer")):
        EnrolmentCompetencyFactory(
            enrolment=Enrolment.objects.get(user=user), competency=typo, kind=kind
        )
    client.force_login(reviewer)

    response = client.post(
        reverse("programs:competency_merge", args=[typo.pk]),
        {"target": "  public SPEAKING "},
        follow=True,
    )

    assert "“Public speakng” merged into “Public speaking”; 2 uses moved." in (
        response.content.decode()
    )
    assert not Competency.objects.filter(pk=typo.pk).exists()
    assert Enrolment.objects.filter(competencies=speaking).distinct().count() == 2
    assert CompetencySynonym.objects.get(name="Public speakng").competency == speaking


@pytest.mark.parametrize("target", ["Nothing like it", "Storytelling"])
def test_it_merges_only_into_an_existing_approved_term(client, reviewer, speaking, target):
    CompetencyFactory(name="Storytelling", status=Competency.Status.SUGGESTED)
    client.force_login(reviewer)

    response = client.post(
        reverse("programs:competency_merge", args=[speaking.pk]), {"target": target}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"target": [f"No approved term called “{target}”."]}
    assert Competency.objects.filter(pk=speaking.pk).exists()


def test_it_shows_the_services_refusal_on_the_merge_form(client, reviewer, speaking):
    client.force_login(reviewer)

    response = client.post(
        reverse("programs:competency_merge", args=[speaking.pk]), {"target": "Public speaking"}
    )

    assert response.context["form"].non_field_errors() == [services.COMPETENCY_MERGE_INTO_ITSELF]


def test_it_reviews_terms_in_the_same_number_of_queries_at_any_size(
    client, reviewer, cohort, mentee, django_assert_num_queries
):
    enrolment = Enrolment.objects.get(user=mentee)
    suggester = UserFactory()

    def add(count: int) -> None:
        for _ in range(count):
            term = CompetencyFactory(status=Competency.Status.SUGGESTED, suggested_by=suggester)
            CompetencySynonym.objects.create(competency=term, name=f"{term.name} (alt)")
            EnrolmentCompetencyFactory(enrolment=enrolment, competency=term)

    add(10)
    client.force_login(reviewer)
    url = reverse("programs:competency_review")
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    assert len(small) == 9  # 11 until the menu asked in one query
    add(90)

    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)

    assert len(response.context["page"].object_list) == 50
