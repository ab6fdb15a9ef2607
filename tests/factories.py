"""factory-boy factories for every model of our apps, keeping the object graph consistent: a
relationship member's enrolment is in the relationship's cohort, a proposal's mentor and mentee
are in its run's cohort, a goal's owner is a member of its relationship, and so on.

They are generic (`DjangoModelFactory[Program]`), so `ProgramFactory()` is a `Program` to mypy."""

from __future__ import annotations

import datetime as dt
import uuid

import factory
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Profile, SubmissionToken, User
from core.models import Heartbeat
from goals.models import (
    Agreement,
    AgreementSignature,
    CalendarFeed,
    CheckIn,
    CheckInComment,
    CheckInGoalProgress,
    Goal,
    GoalChange,
    Milestone,
    PrivateNote,
    Pulse,
    ReadinessRating,
    Reflection,
    SurveyAnswer,
    SurveyResponse,
)
from matching.models import (
    MatchExclusion,
    MatchingConfig,
    MatchRun,
    MentorRequest,
    Proposal,
    Relationship,
    RelationshipMember,
    UnmatchedResult,
)
from notifications.models import Notification, NotificationPreference, OutboundEmail
from programs.models import (
    Announcement,
    BulkJob,
    Cohort,
    CohortQuestion,
    Competency,
    CompetencySynonym,
    Enrolment,
    EnrolmentCompetency,
    FeedbackQuestion,
    Invitation,
    ParticipantImport,
    Program,
)
from reports.models import Nudge

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    display_name = factory.Faker("name")
    time_zone = "Europe/London"
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def verified_email(user: User, create: bool, extracted: bool | None, **kwargs) -> None:
        """allauth's record of the address, verified unless `verified_email=False`."""
        if not create:
            return
        from allauth.account.models import EmailAddress

        EmailAddress.objects.get_or_create(
            user=user,
            email=user.email,
            defaults={"verified": extracted is not False, "primary": True},
        )


class ProfileFactory(DjangoModelFactory[Profile]):
    class Meta:
        model = Profile
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
    department = factory.Iterator(["Engineering", "Sales", "Finance", "Product"])
    job_level = 3
    languages = factory.LazyFunction(lambda: ["English"])


class SubmissionTokenFactory(DjangoModelFactory[SubmissionToken]):
    """A used create-form token; by default it made a program, which its user coordinates."""

    class Meta:
        model = SubmissionToken

    token = factory.LazyFunction(uuid.uuid4)
    user = factory.SubFactory(UserFactory)
    content_type = factory.LazyFunction(lambda: ContentType.objects.get_for_model(Program))
    object_id = factory.LazyAttribute(lambda token: ProgramFactory(coordinators=[token.user]).pk)


class CompetencyFactory(DjangoModelFactory[Competency]):
    class Meta:
        model = Competency
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Competency {n}")


class ProgramFactory(DjangoModelFactory[Program]):
    class Meta:
        model = Program
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Program {n}")
    kind = Program.Kind.ONE_TO_ONE

    @factory.post_generation
    def coordinators(
        program: Program, create: bool, extracted: list[User] | None, **kwargs
    ) -> None:
        if create and extracted:
            program.coordinators.add(*extracted)


class CohortFactory(DjangoModelFactory[Cohort]):
    class Meta:
        model = Cohort

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Cohort {n}")
    status = Cohort.Status.ENROLLING
    starts_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=14))
    ends_on = factory.LazyAttribute(lambda cohort: cohort.starts_on + dt.timedelta(weeks=26))


class EnrolmentFactory(DjangoModelFactory[Enrolment]):
    class Meta:
        model = Enrolment

    cohort = factory.SubFactory(CohortFactory)
    user = factory.SubFactory(UserFactory)
    role = Enrolment.Role.MENTEE
    status = Enrolment.Status.APPROVED
    capacity = factory.LazyAttribute(
        lambda enrolment: 2 if enrolment.role != Enrolment.Role.MENTEE else None
    )


class EnrolmentCompetencyFactory(DjangoModelFactory[EnrolmentCompetency]):
    class Meta:
        model = EnrolmentCompetency

    enrolment = factory.SubFactory(EnrolmentFactory)
    competency = factory.SubFactory(CompetencyFactory)
    kind = EnrolmentCompetency.Kind.DEVELOP


# --- core and programs ------------------------------------------------------------------------


class HeartbeatFactory(DjangoModelFactory[Heartbeat]):
    class Meta:
        model = Heartbeat
        django_get_or_create = ("component",)

    component = "worker"
    seen_at = factory.LazyFunction(timezone.now)


class CompetencySynonymFactory(DjangoModelFactory[CompetencySynonym]):
    class Meta:
        model = CompetencySynonym

    competency = factory.SubFactory(CompetencyFactory)
    name = factory.LazyAttributeSequence(lambda synonym, n: f"{synonym.competency.name} ({n})")


class FeedbackQuestionFactory(DjangoModelFactory[FeedbackQuestion]):
    class Meta:
        model = FeedbackQuestion

    program = factory.SubFactory(ProgramFactory)
    text = factory.Sequence(lambda n: f"Question {n}?")
    answer_kind = FeedbackQuestion.AnswerKind.SCALE
    position = factory.Sequence(lambda n: n)


class CohortQuestionFactory(DjangoModelFactory[CohortQuestion]):
    class Meta:
        model = CohortQuestion

    cohort = factory.SubFactory(CohortFactory)
    text = factory.Sequence(lambda n: f"Application question {n}?")
    position = factory.Sequence(lambda n: n)


class InvitationFactory(DjangoModelFactory[Invitation]):
    class Meta:
        model = Invitation

    cohort = factory.SubFactory(CohortFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    role = Enrolment.Role.MENTEE
    invited_by = factory.SubFactory(UserFactory)


class ParticipantImportFactory(DjangoModelFactory[ParticipantImport]):
    class Meta:
        model = ParticipantImport

    cohort = factory.SubFactory(CohortFactory)
    uploaded_by = factory.SubFactory(UserFactory)
    filename = "people.csv"
    headers = factory.LazyFunction(lambda: ["Email", "Name", "Role"])
    rows = factory.LazyFunction(lambda: [["ana@example.org", "Ana", "Mentee"]])
    mapping = factory.LazyFunction(
        lambda: {"Email": "email", "Name": "display_name", "Role": "role"}
    )


# --- matching -----------------------------------------------------------------------------------


class MatchingConfigFactory(DjangoModelFactory[MatchingConfig]):
    class Meta:
        model = MatchingConfig
        django_get_or_create = ("program",)

    program = factory.SubFactory(ProgramFactory)


class MatchExclusionFactory(DjangoModelFactory[MatchExclusion]):
    """Two people of one cohort who must never be matched."""

    class Meta:
        model = MatchExclusion

    cohort = factory.SubFactory(CohortFactory)
    first = factory.SubFactory(
        EnrolmentFactory, cohort=factory.SelfAttribute("..cohort"), role=Enrolment.Role.MENTOR
    )
    second = factory.SubFactory(EnrolmentFactory, cohort=factory.SelfAttribute("..cohort"))
    reason = "Same team"
    created_by = factory.SubFactory(UserFactory)


class MatchRunFactory(DjangoModelFactory[MatchRun]):
    class Meta:
        model = MatchRun

    cohort = factory.SubFactory(CohortFactory, status=Cohort.Status.MATCHING)
    created_by = factory.SubFactory(UserFactory)
    status = MatchRun.Status.SUCCEEDED
    parameters = factory.LazyFunction(lambda: {"mode": "one_to_one"})


class ProposalFactory(DjangoModelFactory[Proposal]):
    """A proposed pair of a run; both people are in the run's cohort."""

    class Meta:
        model = Proposal

    run = factory.SubFactory(MatchRunFactory)
    mentor = factory.SubFactory(
        EnrolmentFactory, cohort=factory.SelfAttribute("..run.cohort"), role=Enrolment.Role.MENTOR
    )
    mentee = factory.SubFactory(
        EnrolmentFactory, cohort=factory.SelfAttribute("..run.cohort"), role=Enrolment.Role.MENTEE
    )
    score = 0.5


class UnmatchedResultFactory(DjangoModelFactory[UnmatchedResult]):
    class Meta:
        model = UnmatchedResult

    run = factory.SubFactory(MatchRunFactory)
    enrolment = factory.SubFactory(EnrolmentFactory, cohort=factory.SelfAttribute("..run.cohort"))
    reason_code = "no_capacity"
    reason = "Every mentor who fits is full."


def _member_add(
    relationship: Relationship, role: str, who: User | Enrolment | bool | None
) -> RelationshipMember | None:
    """`who` is an enrolment in the relationship's cohort, a user (their enrolment there, made if
    missing), None for someone new, or False for no member in this role."""
    if who is False:
        return None
    if isinstance(who, Enrolment):
        assert who.cohort_id == relationship.cohort_id, "a member must be in the pair's cohort"
        enrolment = who
    else:
        user = who if isinstance(who, User) else None
        found = user and relationship.cohort.enrolments.filter(user=user).first()
        enrolment = found or EnrolmentFactory(
            cohort=relationship.cohort, role=role, **({"user": user} if user else {})
        )
    return RelationshipMemberFactory(relationship=relationship, enrolment=enrolment, role=role)


class RelationshipFactory(DjangoModelFactory[Relationship]):
    """An active pair, as matching would have left it 30 days ago: a mentor and a mentee enrolled
    in its cohort. `mentor=`/`mentee=` take a user or an enrolment (new people by default);
    `False` leaves the role empty (for a circle or peers, add members with the member factory)."""

    class Meta:
        model = Relationship
        skip_postgeneration_save = True

    cohort = factory.SubFactory(CohortFactory, status=Cohort.Status.ACTIVE)
    started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))

    class Params:
        ended = factory.Trait(
            status=Relationship.Status.ENDED,
            outcome=Relationship.Outcome.ENDED_EARLY,
            end_reason="Changed jobs.",
            ended_at=factory.LazyFunction(timezone.now),
        )

    @factory.post_generation
    def mentor(
        relationship: Relationship, create: bool, extracted: User | Enrolment | bool | None, **kw
    ) -> None:
        if create:
            _member_add(relationship, RelationshipMember.Role.MENTOR, extracted)

    @factory.post_generation
    def mentee(
        relationship: Relationship, create: bool, extracted: User | Enrolment | bool | None, **kw
    ) -> None:
        if create:
            _member_add(relationship, RelationshipMember.Role.MENTEE, extracted)


class RelationshipMemberFactory(DjangoModelFactory[RelationshipMember]):
    """A member of a relationship (a new, empty one unless given), enrolled in its cohort."""

    class Meta:
        model = RelationshipMember

    relationship = factory.SubFactory(RelationshipFactory, mentor=False, mentee=False)
    role = RelationshipMember.Role.MENTEE
    enrolment = factory.SubFactory(
        EnrolmentFactory,
        cohort=factory.SelfAttribute("..relationship.cohort"),
        role=factory.SelfAttribute("..role"),
    )


class MentorRequestFactory(DjangoModelFactory[MentorRequest]):
    """A mentee's request to a mentor of the same cohort, waiting for an answer."""

    class Meta:
        model = MentorRequest

    cohort = factory.SubFactory(CohortFactory, status=Cohort.Status.MATCHING)
    mentee = factory.SubFactory(
        EnrolmentFactory, cohort=factory.SelfAttribute("..cohort"), role=Enrolment.Role.MENTEE
    )
    mentor = factory.SubFactory(
        EnrolmentFactory, cohort=factory.SelfAttribute("..cohort"), role=Enrolment.Role.MENTOR
    )
    status = MentorRequest.Status.PENDING
    sent_at = factory.LazyFunction(timezone.now)
    respond_by = factory.LazyAttribute(lambda request: request.sent_at + dt.timedelta(days=7))


# --- goals ----------------------------------------------------------------------------------------


def _member_of(relationship: Relationship, role: str) -> RelationshipMember:
    member = relationship.members.filter(role=role).first()
    return member or RelationshipMemberFactory(relationship=relationship, role=role)


class AgreementFactory(DjangoModelFactory[Agreement]):
    class Meta:
        model = Agreement
        django_get_or_create = ("relationship",)

    relationship = factory.SubFactory(RelationshipFactory)
    text = "We meet every two weeks and keep what we say between us."
    updated_by = factory.LazyAttribute(
        lambda agreement: _member_of(agreement.relationship, "mentee").enrolment.user
    )


class AgreementSignatureFactory(DjangoModelFactory[AgreementSignature]):
    """A signature of the agreement's current version by the relationship's mentee."""

    class Meta:
        model = AgreementSignature

    agreement = factory.SubFactory(AgreementFactory)
    member = factory.LazyAttribute(
        lambda signature: _member_of(signature.agreement.relationship, "mentee")
    )
    version = factory.SelfAttribute("agreement.version")


class GoalFactory(DjangoModelFactory[Goal]):
    """A goal owned by the relationship's mentee."""

    class Meta:
        model = Goal

    relationship = factory.SubFactory(RelationshipFactory)
    owner = factory.LazyAttribute(lambda goal: _member_of(goal.relationship, "mentee"))
    title = factory.Sequence(lambda n: f"Goal {n}")
    measure = "Done when my manager agrees"
    target_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=60))
    created_by = factory.LazyAttribute(lambda goal: goal.owner.enrolment.user)


class MilestoneFactory(DjangoModelFactory[Milestone]):
    class Meta:
        model = Milestone

    goal = factory.SubFactory(GoalFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")


class GoalChangeFactory(DjangoModelFactory[GoalChange]):
    class Meta:
        model = GoalChange

    goal = factory.SubFactory(GoalFactory)
    changed_by = factory.SelfAttribute("goal.created_by")
    field = "progress"
    old_value = "0"
    new_value = "50"


class CheckInFactory(DjangoModelFactory[CheckIn]):
    """A meeting last week, logged by the relationship's mentee."""

    class Meta:
        model = CheckIn

    relationship = factory.SubFactory(RelationshipFactory)
    logged_by = factory.LazyAttribute(lambda check_in: _member_of(check_in.relationship, "mentee"))
    met_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=7))
    duration_minutes = 45
    summary = "We talked about the quarter's priorities."


class CheckInGoalProgressFactory(DjangoModelFactory[CheckInGoalProgress]):
    """Progress on a goal of the check-in's own relationship."""

    class Meta:
        model = CheckInGoalProgress

    check_in = factory.SubFactory(CheckInFactory)
    goal = factory.SubFactory(
        GoalFactory, relationship=factory.SelfAttribute("..check_in.relationship")
    )
    progress = 25


class CheckInCommentFactory(DjangoModelFactory[CheckInComment]):
    class Meta:
        model = CheckInComment

    check_in = factory.SubFactory(CheckInFactory)
    author = factory.LazyAttribute(
        lambda comment: _member_of(comment.check_in.relationship, "mentor")
    )
    text = "Agreed."


class PulseFactory(DjangoModelFactory[Pulse]):
    class Meta:
        model = Pulse

    check_in = factory.SubFactory(CheckInFactory)
    author = factory.SelfAttribute("check_in.logged_by")
    usefulness = 4


class PrivateNoteFactory(DjangoModelFactory[PrivateNote]):
    """A note only its author (the relationship's mentee) may read."""

    class Meta:
        model = PrivateNote

    relationship = factory.SubFactory(RelationshipFactory)
    author = factory.LazyAttribute(
        lambda note: _member_of(note.relationship, "mentee").enrolment.user
    )
    text = "Ask about the stretch assignment."


class SurveyResponseFactory(DjangoModelFactory[SurveyResponse]):
    class Meta:
        model = SurveyResponse

    relationship = factory.SubFactory(RelationshipFactory)
    author = factory.LazyAttribute(lambda response: _member_of(response.relationship, "mentee"))
    stage = SurveyResponse.Stage.MIDPOINT


class SurveyAnswerFactory(DjangoModelFactory[SurveyAnswer]):
    """A scale answer to a question of the response's own program."""

    class Meta:
        model = SurveyAnswer

    response = factory.SubFactory(SurveyResponseFactory)
    question = factory.SubFactory(
        FeedbackQuestionFactory,
        program=factory.SelfAttribute("..response.relationship.cohort.program"),
    )
    scale_value = 4
    visible_to = factory.SelfAttribute("question.visible_to")


class ReadinessRatingFactory(DjangoModelFactory[ReadinessRating]):
    """A mentor's final-survey rating of their mentee's readiness for a next role."""

    class Meta:
        model = ReadinessRating

    response = factory.SubFactory(
        SurveyResponseFactory,
        stage=SurveyResponse.Stage.FINAL,
        author=factory.LazyAttribute(lambda response: _member_of(response.relationship, "mentor")),
    )
    mentee = factory.LazyAttribute(
        lambda rating: _member_of(rating.response.relationship, "mentee")
    )
    readiness = ReadinessRating.Readiness.READY_NOW


class ReflectionFactory(DjangoModelFactory[Reflection]):
    class Meta:
        model = Reflection

    relationship = factory.SubFactory(RelationshipFactory)
    author = factory.LazyAttribute(
        lambda reflection: _member_of(reflection.relationship, "mentee").enrolment.user
    )
    stage = Reflection.Stage.START
    prompt = "What do you hope to get from this?"
    text = "More confidence in negotiations."


class CalendarFeedFactory(DjangoModelFactory[CalendarFeed]):
    class Meta:
        model = CalendarFeed
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)


# --- notifications ------------------------------------------------------------------------------


class OutboundEmailFactory(DjangoModelFactory[OutboundEmail]):
    class Meta:
        model = OutboundEmail

    to = factory.LazyFunction(lambda: ["maya.mentor@example.org"])
    subject = "You have a new mentee"
    text_body = "Say hello."


class NotificationFactory(DjangoModelFactory[Notification]):
    """An in-app notification as notify() records it, without rendering or queuing an email
    (pass `outbound_email=OutboundEmailFactory(...)` for one that was emailed)."""

    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda n: n.recipient.email if n.recipient else "a@example.org")
    kind = Notification.Kind.CHECK_IN_LOGGED
    key = factory.Sequence(lambda n: f"test-notification:{n}")
    title = factory.Sequence(lambda n: f"[Mentorship] A meeting was logged ({n})")
    url = "/me/mentoring/"


class NotificationPreferenceFactory(DjangoModelFactory[NotificationPreference]):
    """A kind of email the person turned off."""

    class Meta:
        model = NotificationPreference

    user = factory.SubFactory(UserFactory)
    kind = Notification.Kind.CHECK_IN_DUE
    email = False


def _coordinator_for(program: Program) -> User:
    user = UserFactory()
    program.coordinators.add(user)
    return user


class AnnouncementFactory(DjangoModelFactory[Announcement]):
    """A queued announcement to everyone in a cohort, as announcement_create leaves it before its
    worker runs (no task is queued: call announcement_deliver to deliver it)."""

    class Meta:
        model = Announcement

    cohort = factory.SubFactory(CohortFactory)
    role = ""
    subject = factory.Sequence(lambda n: f"Kick-off session {n}")
    body = "We meet on Monday at 10:00 in the main hall.\n\nBring your questions."
    # One of the program's coordinators; a program made with none gets one, as a real one has.
    created_by = factory.LazyAttribute(
        lambda a: a.cohort.program.coordinators.first() or _coordinator_for(a.cohort.program)
    )


class BulkJobFactory(DjangoModelFactory[BulkJob]):
    """A queued invitation job for two addresses, as `invitations_send` leaves it before its
    worker runs (no task is queued: call `invitation_job_execute` to run it)."""

    class Meta:
        model = BulkJob

    cohort = factory.SubFactory(CohortFactory)
    kind = BulkJob.Kind.INVITE
    key = factory.Sequence(lambda n: f"test:{n}:invite")
    title = factory.LazyAttribute(lambda j: f"Emailing 2 people an invitation to {j.cohort.name}")
    task_name = "programs.tasks.invitation_job_execute_task"
    payload = factory.LazyFunction(
        lambda: {
            "items": [["ana@example.org", "mentee"], ["ben@example.org", "mentee"]],
            "sent": 0,
            "kept": [],
            "refused": {},
        }
    )
    total = 2
    created_by = factory.LazyAttribute(
        lambda j: j.cohort.program.coordinators.first() or _coordinator_for(j.cohort.program)
    )


# --- reports ------------------------------------------------------------------------------------


class NudgeFactory(DjangoModelFactory[Nudge]):
    """Today's nudge of an active pair, sent by one of its program's coordinators (as
    reports.services.relationship_nudge records it, without the reminders it sends)."""

    class Meta:
        model = Nudge

    relationship = factory.SubFactory(RelationshipFactory)
    day = factory.LazyFunction(timezone.localdate)
    nudged_by = factory.LazyAttribute(
        lambda n: (
            n.relationship.cohort.program.coordinators.first()
            or _coordinator_for(n.relationship.cohort.program)
        )
    )
    recipients = 2
