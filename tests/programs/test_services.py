"""Services for participation, the vocabulary, invitations and profiles: the rules and the side
effects (rows, emails after commit), without HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Profile, User
from programs import services
from programs.models import (
    Cohort,
    CohortQuestion,
    Competency,
    CompetencySynonym,
    Enrolment,
    Invitation,
    Program,
)
from programs.services import EnrolmentDetails
from tests.factories import (
    CohortFactory,
    CompetencyFactory,
    EnrolmentCompetencyFactory,
    EnrolmentFactory,
    ProfileFactory,
    ProgramFactory,
)

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "violet-tractor-lantern-91"


def links_of(enrolment: Enrolment) -> set[tuple[str, str]]:
    return {
        (link.kind, link.competency.name)
        for link in enrolment.competency_links.select_related("competency")
    }


# --- Applying, editing, withdrawing ------------------------------------------------------------


def test_it_applies_with_details_and_resolves_terms(cohort, outsider):
    approved = CompetencyFactory(name="Public speaking")
    CompetencySynonym.objects.create(competency=approved, name="presenting")
    question = CohortQuestion.objects.create(cohort=cohort, text="Manager agreed?")

    enrolment = services.enrolment_apply(
        cohort=cohort,
        user=outsider,
        role=Enrolment.Role.MENTEE,
        details=EnrolmentDetails(
            development_goals="  Present to the board  ",
            develop=("PRESENTING", "Storytelling"),
            seek=("public speaking",),
            application_answers={str(question.pk): "yes"},
        ),
    )

    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.APPLIED
    assert enrolment.capacity is None
    assert enrolment.development_goals == "Present to the board"
    assert enrolment.application_answers == {str(question.pk): "yes"}
    assert links_of(enrolment) == {
        ("develop", "Public speaking"),
        ("develop", "Storytelling"),
        ("seek", "Public speaking"),
    }
    new_term = Competency.objects.get(name="Storytelling")
    assert new_term.status == Competency.Status.SUGGESTED
    assert new_term.suggested_by == outsider


def test_it_gives_a_mentor_the_program_default_capacity(cohort, outsider):
    cohort.program.default_mentor_capacity = 3
    cohort.program.save()

    enrolment = services.enrolment_apply(
        cohort=cohort, user=outsider, role=Enrolment.Role.MENTOR, details=EnrolmentDetails()
    )

    assert enrolment.capacity == 3


def test_it_refuses_a_second_application(cohort, mentee):
    with pytest.raises(ValidationError) as error:
        services.enrolment_apply(
            cohort=cohort, user=mentee, role=Enrolment.Role.MENTEE, details=EnrolmentDetails()
        )

    assert error.value.messages == [services.ENROLMENT_ALREADY_EXISTS]


def test_it_refuses_applications_outside_the_window(cohort, outsider):
    cohort.enrolment_closes_on = timezone.localdate() - dt.timedelta(days=1)
    cohort.save()

    with pytest.raises(ValidationError) as error:
        services.enrolment_apply(
            cohort=cohort, user=outsider, role=Enrolment.Role.MENTEE, details=EnrolmentDetails()
        )

    assert error.value.messages == [services.APPLICATIONS_CLOSED]
    assert not Enrolment.objects.filter(user=outsider).exists()


def test_it_takes_only_peers_in_a_peer_program(outsider):
    cohort = CohortFactory(program=ProgramFactory(kind=Program.Kind.PEER))

    with pytest.raises(ValidationError) as error:
        services.enrolment_apply(
            cohort=cohort, user=outsider, role=Enrolment.Role.MENTEE, details=EnrolmentDetails()
        )

    assert error.value.message_dict == {
        "role": [services.ROLE_NOT_IN_PROGRAM.format(role="mentee")]
    }


def test_it_refuses_an_external_person_as_mentee(cohort, outsider):
    ProfileFactory(user=outsider, is_external=True)

    with pytest.raises(ValidationError) as error:
        services.enrolment_apply(
            cohort=cohort, user=outsider, role=Enrolment.Role.MENTEE, details=EnrolmentDetails()
        )

    assert error.value.messages == [services.EXTERNAL_ONLY_AS_MENTOR]


def test_it_lets_a_person_who_withdrew_apply_again(cohort, mentee):
    enrolment = Enrolment.objects.get(user=mentee)
    services.enrolment_withdraw(enrolment=enrolment, reason="  Too busy this quarter  ")
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.WITHDRAWN
    assert enrolment.withdrawal_reason == "Too busy this quarter"

    again = services.enrolment_apply(
        cohort=cohort, user=mentee, role=Enrolment.Role.MENTEE, details=EnrolmentDetails()
    )

    assert again.pk == enrolment.pk
    assert again.status == Enrolment.Status.APPLIED
    assert again.withdrawal_reason == ""


def test_it_refuses_to_withdraw_once_the_cohort_is_closing(cohort, mentee):
    Cohort.objects.filter(pk=cohort.pk).update(status=Cohort.Status.CLOSING)
    enrolment = Enrolment.objects.select_related("cohort").get(user=mentee)

    with pytest.raises(ValidationError) as error:
        services.enrolment_withdraw(enrolment=enrolment)

    assert error.value.messages == [services.WITHDRAW_ONLY_OPEN]


def test_it_replaces_details_and_terms_on_update(cohort, mentor):
    enrolment = Enrolment.objects.get(user=mentor)
    EnrolmentCompetencyFactory(
        enrolment=enrolment, competency=CompetencyFactory(name="Old"), kind="offer"
    )

    services.enrolment_update_details(
        enrolment=enrolment,
        details=EnrolmentDetails(availability="Mondays", capacity=4, offer=("Negotiation",)),
    )

    enrolment.refresh_from_db()
    assert enrolment.availability == "Mondays"
    assert enrolment.capacity == 4
    assert links_of(enrolment) == {("offer", "Negotiation")}


def test_it_keeps_answers_when_an_update_brings_none(cohort, mentee):
    enrolment = Enrolment.objects.get(user=mentee)
    enrolment.application_answers = {"7": "yes"}
    enrolment.save()

    services.enrolment_update_details(enrolment=enrolment, details=EnrolmentDetails())

    enrolment.refresh_from_db()
    assert enrolment.application_answers == {"7": "yes"}


def test_it_updates_a_profile_creating_it_when_missing(outsider):
    profile = services.profile_update(
        user=outsider, department="Finance", job_level=4, languages=["English", "French"]
    )

    profile.refresh_from_db()
    assert (profile.department, profile.job_level, profile.languages) == (
        "Finance",
        4,
        ["English", "French"],
    )
    assert Profile.objects.filter(user=outsider).count() == 1


def test_it_refuses_a_job_level_that_does_not_exist(outsider):
    with pytest.raises(ValidationError) as error:
        services.profile_update(user=outsider, job_level=42)

    assert "job_level" in error.value.message_dict


# --- Vocabulary ---------------------------------------------------------------------------------


def test_it_resolves_names_and_synonyms_in_any_case_and_suggests_the_rest(outsider):
    speaking = CompetencyFactory(name="Public speaking")
    CompetencySynonym.objects.create(competency=speaking, name="presenting")

    resolved = services.competency_terms_resolve(
        terms=["public SPEAKING", " Presenting ", "Story  telling", "story telling", ""],
        suggested_by=outsider,
    )

    assert [c.name for c in resolved] == ["Public speaking", "Public speaking", "Story telling"]
    assert Competency.objects.get(name="Story telling").status == Competency.Status.SUGGESTED


def test_it_merges_uses_and_keeps_the_old_name_as_a_synonym(cohort, mentee, mentor):
    typo = CompetencyFactory(name="Public speakng", status=Competency.Status.SUGGESTED)
    right = CompetencyFactory(name="Public speaking")
    CompetencySynonym.objects.create(competency=typo, name="publik speaking")
    mentee_enrolment = Enrolment.objects.get(user=mentee)
    mentor_enrolment = Enrolment.objects.get(user=mentor)
    EnrolmentCompetencyFactory(enrolment=mentee_enrolment, competency=typo, kind="develop")
    EnrolmentCompetencyFactory(enrolment=mentor_enrolment, competency=typo, kind="offer")
    # The mentee already has the right term for the same kind: no duplicate link survives.
    EnrolmentCompetencyFactory(enrolment=mentee_enrolment, competency=right, kind="develop")

    services.competency_merge(source=typo, target=right)

    assert not Competency.objects.filter(pk=typo.pk).exists()
    assert links_of(mentee_enrolment) == {("develop", "Public speaking")}
    assert links_of(mentor_enrolment) == {("offer", "Public speaking")}
    assert set(right.synonyms.values_list("name", flat=True)) == {
        "Public speakng",
        "publik speaking",
    }
    assert services.competency_terms_resolve(terms=["public speakng"], suggested_by=None) == [right]


def test_it_approves_a_suggested_target_when_merging(outsider):
    source = CompetencyFactory(name="Negotiatoin", status=Competency.Status.SUGGESTED)
    target = CompetencyFactory(name="Negotiating deals", status=Competency.Status.SUGGESTED)

    services.competency_merge(source=source, target=target)

    target.refresh_from_db()
    assert target.status == Competency.Status.APPROVED


def test_it_refuses_to_merge_a_term_into_itself():
    term = CompetencyFactory(name="Coaching")

    with pytest.raises(ValidationError) as error:
        services.competency_merge(source=term, target=term)

    assert error.value.messages == [services.COMPETENCY_MERGE_INTO_ITSELF]


def test_it_approves_a_suggested_term():
    term = CompetencyFactory(name="Storytelling", status=Competency.Status.SUGGESTED)

    services.competency_approve(competency=term)

    term.refresh_from_db()
    assert term.status == Competency.Status.APPROVED


# --- Invitations --------------------------------------------------------------------------------


def test_it_invites_by_email_with_an_absolute_link_after_commit(
    cohort, coordinator, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://mentoring.example.org"
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(
            cohort=cohort, email=" Ana@Example.ORG ", role="mentee", invited_by=coordinator
        )

    assert invitation.email == "ana@example.org"
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ana@example.org"]
    link = f"https://mentoring.example.org/invitations/{invitation.token}/"
    assert link in message.body
    assert f'href="{link}"' in message.alternatives[0][0]
    assert "Corinne Coordinator" in message.body


def test_it_retires_earlier_unused_invitations_for_the_same_address(cohort, coordinator):
    first = services.invitation_create(
        cohort=cohort, email="ana@example.org", role="mentee", invited_by=coordinator
    )
    second = services.invitation_create(
        cohort=cohort, email="ana@example.org", role="mentor", invited_by=coordinator
    )

    first.refresh_from_db()
    assert services.invitation_problem(invitation=first) == services.INVITATION_EXPIRED
    assert services.invitation_problem(invitation=second) is None


def test_it_refuses_external_mentors_where_the_program_does_not_take_them(cohort, coordinator):
    with pytest.raises(ValidationError) as error:
        services.invitation_create(
            cohort=cohort,
            email="ext@example.com",
            role="mentor",
            invited_by=coordinator,
            is_external=True,
        )

    assert error.value.messages == [services.EXTERNAL_NOT_ALLOWED]
    assert not Invitation.objects.exists()


def test_it_accepts_for_the_signed_in_invitee(cohort, coordinator, outsider):
    invitation = services.invitation_create(
        cohort=cohort, email=outsider.email.upper(), role="mentor", invited_by=coordinator
    )

    user, enrolment = services.invitation_accept(invitation=invitation, user=outsider)

    assert user == outsider
    assert (enrolment.status, enrolment.role) == (Enrolment.Status.APPROVED, "mentor")
    assert enrolment.capacity == cohort.program.default_mentor_capacity
    invitation.refresh_from_db()
    assert invitation.accepted_by == outsider
    assert services.invitation_problem(invitation=invitation) == services.INVITATION_USED


def test_it_refuses_an_invitation_meant_for_someone_else(cohort, coordinator, outsider):
    invitation = services.invitation_create(
        cohort=cohort, email="ana@example.org", role="mentee", invited_by=coordinator
    )

    with pytest.raises(ValidationError) as error:
        services.invitation_accept(invitation=invitation, user=outsider)

    assert error.value.messages == [
        services.INVITATION_FOR_SOMEONE_ELSE.format(email="ana@example.org")
    ]
    assert not Enrolment.objects.filter(user=outsider).exists()


def test_it_creates_a_verified_account_for_a_new_person(cohort, coordinator):
    invitation = services.invitation_create(
        cohort=cohort, email="ana@example.org", role="mentee", invited_by=coordinator
    )

    user, enrolment = services.invitation_accept(
        invitation=invitation, user=None, display_name=" Ana Silva ", password=STRONG_PASSWORD
    )

    assert user.display_name == "Ana Silva"
    assert user.check_password(STRONG_PASSWORD)
    assert EmailAddress.objects.get(user=user).verified
    assert enrolment.status == Enrolment.Status.APPROVED


def test_it_lets_an_imported_person_without_a_password_claim_their_account(cohort, coordinator):
    imported = User.objects.create_user(email="ana@example.org", display_name="Ana")
    assert not imported.has_usable_password()
    invitation = services.invitation_create(
        cohort=cohort, email="ana@example.org", role="mentee", invited_by=coordinator
    )

    user, _ = services.invitation_accept(
        invitation=invitation, user=None, display_name="Ana Silva", password=STRONG_PASSWORD
    )

    assert user.pk == imported.pk
    assert user.has_usable_password()


def test_it_asks_for_a_name_and_a_strong_password(cohort, coordinator):
    invitation = services.invitation_create(
        cohort=cohort, email="ana@example.org", role="mentee", invited_by=coordinator
    )

    with pytest.raises(ValidationError) as error:
        services.invitation_accept(invitation=invitation, user=None, display_name="", password="1")

    assert set(error.value.message_dict) == {"display_name", "password"}
    assert not User.objects.filter(email="ana@example.org").exists()


def test_it_refuses_an_expired_invitation(cohort, coordinator, outsider):
    invitation = services.invitation_create(
        cohort=cohort, email=outsider.email, role="mentee", invited_by=coordinator
    )

    later = timezone.now() + dt.timedelta(days=15)
    with time_machine.travel(later, tick=False), pytest.raises(ValidationError) as error:
        services.invitation_accept(invitation=invitation, user=outsider)

    assert error.value.messages == [services.INVITATION_EXPIRED]


def test_it_flips_an_invited_enrolment_to_approved(cohort, coordinator, outsider):
    EnrolmentFactory(cohort=cohort, user=outsider, status=Enrolment.Status.INVITED)
    invitation = services.invitation_create(
        cohort=cohort, email=outsider.email, role="mentee", invited_by=coordinator
    )

    _, enrolment = services.invitation_accept(invitation=invitation, user=outsider)

    assert enrolment.status == Enrolment.Status.APPROVED


def test_it_emails_coordinators_once_when_renewal_is_asked_twice(
    cohort, coordinator, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    invitation = services.invitation_create(
        cohort=cohort, email=outsider.email, role="mentee", invited_by=coordinator
    )
    services.invitation_accept(invitation=invitation, user=outsider)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_request_renewal(invitation=invitation)
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_request_renewal(invitation=invitation)

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [coordinator.email]
    assert "was already used" in mailoutbox[0].body
    assert f"/cohorts/{cohort.pk}/invitations/" in mailoutbox[0].body


def test_it_keeps_answers_linked_to_questions_when_the_questions_are_edited(cohort, mentee):
    """Editing a cohort's questions must not orphan answers already given: answers are keyed by
    question id, so the id must survive an edit that keeps the question."""
    question = CohortQuestion.objects.create(cohort=cohort, text="Manager agreed?")
    enrolment = Enrolment.objects.get(user=mentee)
    enrolment.application_answers = {str(question.pk): "yes"}
    enrolment.save()

    services.cohort_question_set(
        cohort=cohort, questions=[{"text": "Manager agreed?", "answer_kind": "short"}]
    )

    kept = cohort.questions.get()
    assert str(kept.pk) in enrolment.application_answers


def test_it_explains_that_details_cannot_change_once_the_cohort_is_closed(cohort, mentee):
    Cohort.objects.filter(pk=cohort.pk).update(status=Cohort.Status.CLOSED)
    enrolment = Enrolment.objects.select_related("cohort").get(user=mentee)

    with pytest.raises(ValidationError) as error:
        services.enrolment_update_details(enrolment=enrolment, details=EnrolmentDetails())

    assert "withdraw" not in " ".join(error.value.messages).lower()


def test_it_refuses_a_role_that_does_not_exist_as_a_validation_error(cohort, outsider):
    with pytest.raises(ValidationError):
        services.enrolment_apply(
            cohort=cohort, user=outsider, role="boss", details=EnrolmentDetails()
        )


def test_it_refuses_a_circle_with_no_seat_for_a_mentee(coordinator):
    with pytest.raises(ValidationError) as error:
        services.program_create(
            created_by=coordinator,
            name="Circles",
            kind="circle",
            circle_size=2,
            mentors_per_circle=2,
        )

    assert "at least one mentee" in str(error.value)


def test_it_refuses_a_misspelt_program_setting_instead_of_ignoring_it(program):
    # mypy refuses the misspelling too (hence the ignore); this is the refusal at run time.
    with pytest.raises(TypeError, match="no setting nmae"):
        services.program_update(program=program, nmae="Renamed")  # type: ignore[call-arg]

    program.refresh_from_db()
    assert program.name == "Leadership Mentoring"
