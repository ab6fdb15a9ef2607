"""Applying through a cohort's link, one's own enrolment and profile, over HTTP: who may open
what, and what each page does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from programs import services
from programs.models import (
    Cohort,
    CohortQuestion,
    Competency,
    CompetencySynonym,
    Enrolment,
    Program,
)
from tests.factories import (
    CohortFactory,
    CompetencyFactory,
    EnrolmentCompetencyFactory,
    ProfileFactory,
    ProgramFactory,
)

pytestmark = pytest.mark.django_db

PERSONAS = ["coordinator", "other_coordinator", "mentor", "mentee", "outsider", "anonymous"]


def apply_url(cohort: Cohort) -> str:
    return reverse("programs:apply", args=[cohort.application_token])


def application(**overrides: str) -> dict[str, str]:
    data = {
        "role": "mentee",
        "job_title": "Analyst",
        "department": "Finance",
        "job_level": "2",
        "location": "Lisbon",
        "languages": "English, Portuguese",
        "develop": "presenting, Storytelling for analysts",
        "seek": "Negotiation",
        "offer": "",
        "expertise": "",
        "development_goals": "Present our quarterly numbers to the board.",
        "hopes": "A sounding board.",
        "availability": "Tuesday afternoons",
        "capacity": "1",
    }
    data.update(overrides)
    return data


@pytest.fixture
def vocabulary(db):
    speaking = CompetencyFactory(name="Public speaking")
    CompetencySynonym.objects.create(competency=speaking, name="presenting")
    CompetencyFactory(name="Negotiation")
    return speaking


# --- Who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("url_name", ["my_enrolment", "my_enrolment_edit", "my_enrolment_withdraw"])
def test_it_shows_an_enrolment_to_its_participant_only(
    client, sign_in, mentee, mentor, coordinator, other_coordinator, outsider, persona, url_name
):
    enrolment = Enrolment.objects.get(user=mentee)
    sign_in(persona)

    response = client.get(reverse(f"programs:{url_name}", args=[enrolment.pk]))

    if persona == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    elif persona == "mentee":
        assert response.status_code == 200
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_shows_the_application_page_to_everyone(
    client, sign_in, cohort, mentee, mentor, persona
):
    sign_in(persona)

    response = client.get(apply_url(cohort))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Leadership Mentoring" in page
    next_query = f"?next={apply_url(cohort)}"
    if persona == "anonymous":
        assert f'href="{reverse("account_signup")}{next_query}"' in page
        assert f'href="{reverse("account_login")}{next_query}"' in page
        assert "form" not in response.context
    elif persona in ("mentee", "mentor"):
        assert services.ENROLMENT_ALREADY_EXISTS in page
    else:
        assert "Send my application" in page


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_lets_only_signed_in_people_edit_their_profile(client, sign_in, cohort, persona):
    sign_in(persona)

    response = client.get(reverse("programs:profile_edit"))

    assert response.status_code == (302 if persona == "anonymous" else 200)


def test_it_answers_404_for_an_unknown_application_link(client, outsider):
    client.force_login(outsider)

    assert client.get(reverse("programs:apply", args=["not-a-token"])).status_code == 404


# --- Applying -----------------------------------------------------------------------------------


def test_it_takes_an_application_end_to_end(client, cohort, outsider, vocabulary):
    required = CohortQuestion.objects.create(
        cohort=cohort,
        text="Has your manager agreed?",
        answer_kind=CohortQuestion.AnswerKind.YES_NO,
        is_required=True,
    )
    optional = CohortQuestion.objects.create(
        cohort=cohort, text="Anything else?", answer_kind=CohortQuestion.AnswerKind.LONG_TEXT
    )
    client.force_login(outsider)

    response = client.post(
        apply_url(cohort),
        application(**{f"question_{required.pk}": "yes", f"question_{optional.pk}": "No."}),
        follow=True,
    )

    enrolment = Enrolment.objects.get(user=outsider)
    assert response.redirect_chain == [(reverse("programs:my_enrolment", args=[enrolment.pk]), 302)]
    assert (
        "Your application is in. The coordinator will review it; you&#x27;ll see its status here."
        in response.content.decode()
    )
    assert (enrolment.role, enrolment.status) == ("mentee", Enrolment.Status.APPLIED)
    assert enrolment.capacity is None
    assert enrolment.application_answers == {str(required.pk): "yes", str(optional.pk): "No."}
    assert enrolment.availability == "Tuesday afternoons"
    terms = {
        (link.kind, link.competency.name, link.competency.status)
        for link in enrolment.competency_links.select_related("competency")
    }
    assert terms == {
        ("develop", "Public speaking", Competency.Status.APPROVED),
        ("develop", "Storytelling for analysts", Competency.Status.SUGGESTED),
        ("seek", "Negotiation", Competency.Status.APPROVED),
    }
    assert Competency.objects.get(name="Storytelling for analysts").suggested_by == outsider
    profile = Profile.objects.get(user=outsider)
    assert (profile.department, profile.job_level, profile.languages) == (
        "Finance",
        2,
        ["English", "Portuguese"],
    )


def test_it_offers_suggestions_from_the_vocabulary_on_the_form(client, cohort, outsider):
    client.force_login(outsider)

    page = client.get(apply_url(cohort)).content.decode()

    suggest = reverse("programs:competency_suggest")
    assert page.count(f'data-suggest-url="{suggest}"') == 4  # develop, seek, offer, expertise
    assert "js/competency-input.js" in page
    assert (
        "Separate terms with commas. Pick from the suggestions, or type a new term: "
        "a coordinator reviews new terms."
    ) in page
    assert f"{reverse('programs:profile_edit')}?next=" in page


def test_it_asks_required_cohort_questions(client, cohort, outsider):
    question = CohortQuestion.objects.create(
        cohort=cohort, text="Manager agreed?", answer_kind="yes_no", is_required=True
    )
    client.force_login(outsider)

    response = client.post(apply_url(cohort), application())

    assert response.status_code == 200
    assert f"question_{question.pk}" in response.context["form"].errors
    assert not Enrolment.objects.filter(user=outsider).exists()


def test_it_prefills_the_application_from_the_profile(client, cohort, outsider):
    ProfileFactory(user=outsider, department="Legal", languages=["English", "French"])
    client.force_login(outsider)

    form = client.get(apply_url(cohort)).context["form"]

    assert form["department"].value() == "Legal"
    assert form["languages"].value() == "English, French"
    assert form["capacity"].value() == cohort.program.default_mentor_capacity


def test_it_ignores_what_a_mentee_would_offer(client, cohort, outsider):
    client.force_login(outsider)

    client.post(apply_url(cohort), application(offer="Budgeting", capacity="5"))

    enrolment = Enrolment.objects.get(user=outsider)
    assert enrolment.capacity is None
    assert not enrolment.competency_links.filter(kind="offer").exists()


def test_it_takes_a_mentor_with_their_capacity_and_offer(client, cohort, outsider):
    client.force_login(outsider)

    client.post(apply_url(cohort), application(role="mentor", offer="Budgeting", capacity="3"))

    enrolment = Enrolment.objects.get(user=outsider)
    assert (enrolment.role, enrolment.capacity) == ("mentor", 3)
    assert enrolment.competency_links.get(kind="offer").competency.name == "Budgeting"


def test_it_tells_a_person_who_applies_twice_they_already_have_a_place(client, cohort, outsider):
    client.force_login(outsider)
    client.post(apply_url(cohort), application())

    response = client.post(apply_url(cohort), application(role="mentor"))

    assert response.status_code == 200
    page = response.content.decode()
    assert services.ENROLMENT_ALREADY_EXISTS in page
    enrolment = Enrolment.objects.get(user=outsider)
    assert enrolment.role == "mentee"
    assert reverse("programs:my_enrolment", args=[enrolment.pk]) in page


@pytest.mark.parametrize("persona", ["outsider", "anonymous"])
def test_it_shows_a_closed_page_outside_the_window(client, sign_in, cohort, persona):
    cohort.enrolment_closes_on = timezone.localdate() - dt.timedelta(days=1)
    cohort.save()
    sign_in(persona)

    response = client.post(apply_url(cohort), application())

    assert response.status_code == 200
    page = response.content.decode()
    assert "Applications for this cohort are closed." in page
    assert "Leadership Mentoring" in page
    assert not Enrolment.objects.exists()


def test_it_offers_only_the_peer_role_in_a_peer_program(client, outsider):
    cohort = CohortFactory(program=ProgramFactory(name="Peers", kind=Program.Kind.PEER))
    client.force_login(outsider)

    response = client.get(apply_url(cohort))

    form = response.context["form"]
    assert [value for value, _ in form.fields["role"].choices] == ["peer"]
    assert form["role"].is_hidden
    assert "capacity" not in form.fields
    page = response.content.decode()
    assert 'value="mentee"' not in page

    client.post(apply_url(cohort), application(role="peer", offer="Budgeting"))
    enrolment = Enrolment.objects.get(user=outsider)
    assert enrolment.role == "peer"
    assert enrolment.competency_links.filter(kind="offer").exists()


def test_it_refuses_a_role_the_program_does_not_take(client, outsider):
    cohort = CohortFactory(program=ProgramFactory(kind=Program.Kind.PEER))
    client.force_login(outsider)

    response = client.post(apply_url(cohort), application(role="mentee"))

    assert "role" in response.context["form"].errors
    assert not Enrolment.objects.exists()


def test_it_refuses_an_external_person_as_a_mentee(client, cohort, outsider):
    ProfileFactory(user=outsider, is_external=True)
    client.force_login(outsider)

    response = client.post(apply_url(cohort), application())

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [services.EXTERNAL_ONLY_AS_MENTOR]
    assert not Enrolment.objects.exists()


# --- One's own enrolment ------------------------------------------------------------------------


def test_it_shows_a_participant_their_enrolment(client, cohort, mentee):
    enrolment = Enrolment.objects.get(user=mentee)
    EnrolmentCompetencyFactory(
        enrolment=enrolment, competency=CompetencyFactory(name="Delegation"), kind="develop"
    )
    question = CohortQuestion.objects.create(cohort=cohort, text="Manager agreed?")
    enrolment.application_answers = {str(question.pk): "Yes, gladly"}
    enrolment.save()
    client.force_login(mentee)

    page = client.get(reverse("programs:my_enrolment", args=[enrolment.pk])).content.decode()

    assert "You are in. Matching comes next." in page
    assert "Status last changed" in page
    assert "Delegation" in page
    assert "Manager agreed?" in page
    assert "Yes, gladly" in page
    assert reverse("programs:my_enrolment_edit", args=[enrolment.pk]) in page
    assert reverse("programs:my_enrolment_withdraw", args=[enrolment.pk]) in page
    assert reverse("programs:profile_edit") in page


def test_it_never_shows_other_people_on_a_participants_page(
    client, cohort, mentee, mentor, coordinator, outsider
):
    EnrolmentCompetencyFactory(enrolment=Enrolment.objects.get(user=mentor))
    client.force_login(mentee)

    page = client.get(
        reverse("programs:my_enrolment", args=[Enrolment.objects.get(user=mentee).pk])
    ).content.decode()

    for person in (mentor, coordinator, outsider):
        assert person.display_name not in page
        assert person.email not in page


def test_it_saves_edited_details(client, cohort, mentee, vocabulary):
    enrolment = Enrolment.objects.get(user=mentee)
    client.force_login(mentee)
    url = reverse("programs:my_enrolment_edit", args=[enrolment.pk])
    form = client.get(url).context["form"]
    assert "capacity" not in form.fields  # a mentee's form has no mentor fields

    response = client.post(
        url,
        {
            "develop": "Public speaking, Negotiation",
            "seek": "",
            "development_goals": "Lead a project",
            "hopes": "",
            "availability": "Mondays",
            "prefers_same_time_zone": "on",
        },
    )

    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.availability == "Mondays"
    assert enrolment.prefers_same_time_zone
    assert sorted(link.competency.name for link in enrolment.competency_links.all()) == [
        "Negotiation",
        "Public speaking",
    ]
    assert client.get(url).context["form"]["develop"].value() == "Negotiation, Public speaking"


def test_it_withdraws_with_a_reason_and_lets_the_person_apply_again(client, cohort, mentee):
    enrolment = Enrolment.objects.get(user=mentee)
    client.force_login(mentee)
    withdraw_url = reverse("programs:my_enrolment_withdraw", args=[enrolment.pk])
    assert "data-confirm=" in client.get(withdraw_url).content.decode()

    response = client.post(withdraw_url, {"reason": "New job"}, follow=True)

    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.withdrawal_reason) == ("withdrawn", "New job")
    page = response.content.decode()
    assert "You withdrew." in page
    assert withdraw_url not in page
    assert reverse("programs:my_enrolment_edit", args=[enrolment.pk]) not in page
    assert apply_url(cohort) in page  # "Apply again"

    response = client.post(apply_url(cohort), application())

    enrolment.refresh_from_db()
    assert response.status_code == 302
    assert (enrolment.status, enrolment.withdrawal_reason) == ("applied", "")


def test_it_sends_a_withdrawn_participant_back_from_the_edit_page(client, cohort, mentee):
    enrolment = Enrolment.objects.get(user=mentee)
    enrolment.status = Enrolment.Status.WITHDRAWN
    enrolment.save()
    client.force_login(mentee)

    response = client.post(
        reverse("programs:my_enrolment_edit", args=[enrolment.pk]), {"availability": "x"}
    )

    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.availability == ""


def test_it_hides_changes_once_the_cohort_is_closed(client, cohort, mentee):
    Cohort.objects.filter(pk=cohort.pk).update(status=Cohort.Status.CLOSED)
    enrolment = Enrolment.objects.get(user=mentee)
    client.force_login(mentee)

    page = client.get(reverse("programs:my_enrolment", args=[enrolment.pk])).content.decode()

    assert reverse("programs:my_enrolment_edit", args=[enrolment.pk]) not in page
    assert reverse("programs:my_enrolment_withdraw", args=[enrolment.pk]) not in page
    response = client.post(reverse("programs:my_enrolment_withdraw", args=[enrolment.pk]))
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.APPROVED


# --- Profile ------------------------------------------------------------------------------------


def test_it_saves_a_profile_and_returns_where_the_person_came_from(client, cohort, mentee):
    client.force_login(mentee)
    back = reverse("programs:my_enrolment", args=[Enrolment.objects.get(user=mentee).pk])

    response = client.post(
        reverse("programs:profile_edit"),
        {
            "job_title": "Engineer",
            "department": "Platform",
            "job_level": "3",
            "location": "Berlin",
            "languages": "German, English, german",
            "bio": "Builds things.",
            "next": back,
        },
    )

    assert response.status_code == 302
    assert response.url == back
    profile = Profile.objects.get(user=mentee)
    assert profile.languages == ["German", "English"]
    assert (profile.job_level, profile.bio) == (3, "Builds things.")


def test_it_ignores_a_next_address_on_another_site(client, outsider):
    client.force_login(outsider)

    response = client.post(
        reverse("programs:profile_edit"), {"languages": "", "next": "https://evil.example/"}
    )

    assert response.url == reverse("programs:profile_edit")
