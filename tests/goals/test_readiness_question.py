"""The readiness question of a mentor's final survey: asked of mentors only, at the end only,
once per mentee, saying who reads the answer; stored for the close-out report's leadership
pipeline and never shown to the mentee."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from goals import services
from goals.models import ReadinessRating, SurveyResponse
from matching.models import Relationship
from programs.models import Cohort
from tests.factories import RelationshipFactory, RelationshipMemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(cohort, mentor, mentee) -> Relationship:
    cohort.status = Cohort.Status.CLOSING  # the final survey is open
    cohort.save()
    return RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)


def survey_url(relationship: Relationship, stage: str = "final") -> str:
    return reverse("goals:survey", args=[relationship.pk, stage])


def test_it_asks_the_mentor_about_the_mentees_readiness_and_says_who_reads_it(client, mentor, pair):
    client.force_login(mentor)

    html = client.get(survey_url(pair)).content.decode()

    assert escape(ReadinessRating.QUESTION.format(name="Mo Mentee")) in html
    assert ReadinessRating.READERS in html  # help texts are drawn as written
    for _, label in ReadinessRating.Readiness.choices:
        assert escape(label) in html


def test_it_does_not_ask_the_mentee_nor_at_the_midpoint(client, mentee, mentor, pair):
    cohort = pair.cohort
    cohort.starts_on, cohort.ends_on = cohort.starts_on.replace(year=2020), cohort.ends_on
    cohort.save()  # past half way: the midpoint survey is open too

    client.force_login(mentee)
    as_mentee = client.get(survey_url(pair)).content.decode()
    client.force_login(mentor)
    midpoint = client.get(survey_url(pair, "midpoint")).content.decode()

    assert "ready" not in as_mentee.lower()
    assert "ready" not in midpoint.lower()
    assert "for a next role" not in midpoint


def test_it_stores_the_rating_with_the_survey(client, mentor, pair):
    client.force_login(mentor)
    mo = pair.members.get(role="mentee")

    response = client.post(survey_url(pair), {f"readiness{mo.pk}": "ready_now"})

    assert response.status_code == 302
    rating = ReadinessRating.objects.get()
    assert (rating.mentee, rating.readiness) == (mo, "ready_now")
    assert rating.response.stage == SurveyResponse.Stage.FINAL
    assert rating.response.author == pair.members.get(role="mentor")


def test_it_needs_an_answer_for_every_mentee(client, mentor, pair):
    client.force_login(mentor)

    response = client.post(survey_url(pair), {})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not SurveyResponse.objects.exists()


def test_it_rates_each_mentee_of_a_circle(mentor, pair):
    second = RelationshipMemberFactory(relationship=pair, role="mentee")
    maya = pair.members.get(role="mentor")
    mo = pair.members.get(role="mentee", enrolment__user__email="mo.mentee@example.org")

    asked = services.survey_readiness_mentees(member=maya, stage="final")
    with pytest.raises(ValidationError) as missing:
        services.survey_submit(
            relationship=pair, member=maya, stage="final", answers={}, readiness={mo.pk: "later"}
        )
    services.survey_submit(
        relationship=pair,
        member=maya,
        stage="final",
        answers={},
        readiness={mo.pk: "later", second.pk: "not_yet"},
    )

    assert asked == [mo, second]
    assert f"readiness{second.pk}" in missing.value.message_dict
    assert dict(ReadinessRating.objects.values_list("mentee_id", "readiness")) == {
        mo.pk: "later",
        second.pk: "not_yet",
    }


def test_it_never_shows_the_rating_to_the_mentee(client, mentee, mentor, pair):
    maya = pair.members.get(role="mentor")
    mo = pair.members.get(role="mentee")
    services.survey_submit(
        relationship=pair,
        member=maya,
        stage="final",
        answers={},
        readiness={mo.pk: "not_yet"},
    )
    client.force_login(mentee)

    for url in (reverse("goals:relationship_home", args=[pair.pk]), survey_url(pair)):
        html = client.get(url).content.decode()
        assert escape(ReadinessRating.Readiness.NOT_YET.label) not in html, url
