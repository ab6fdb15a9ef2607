"""A believable demo organisation for `manage.py seed_demo`.

Deterministic (a fixed random seed) and idempotent: people are keyed by email, programs and
cohorts by name, so running it again changes nothing. Later features extend it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import Profile, User
from programs.models import (
    Cohort,
    CohortQuestion,
    Competency,
    CompetencySynonym,
    Enrolment,
    EnrolmentCompetency,
    FeedbackQuestion,
    Invitation,
    Program,
)
from programs.services import coordinators_group_ensure

DEMO_DOMAIN = "demo.mentorship.test"
DEMO_PASSWORD = "demo-password"
# The logins printed by `make run`: always approved, so the demo shows the path that works.
DEMO_LOGINS = {f"mentor@{DEMO_DOMAIN}", f"mentee@{DEMO_DOMAIN}"}
MENTOR_COUNT = 40
MENTEE_COUNT = 80

VOCABULARY: dict[str, list[str]] = {
    "Public speaking": ["presenting", "presentation skills"],
    "Strategic thinking": ["strategy", "long-term planning"],
    "Negotiation": ["negotiating"],
    "Giving feedback": ["feedback conversations"],
    "Coaching": ["coaching others"],
    "Delegation": ["delegating"],
    "Stakeholder management": ["managing stakeholders"],
    "Conflict resolution": ["handling conflict"],
    "Decision making": ["making decisions"],
    "Change management": ["leading change"],
    "Budgeting": ["financial planning"],
    "Hiring": ["recruiting", "interviewing"],
    "Time management": ["prioritisation", "prioritization"],
    "Product management": ["product thinking"],
    "Data analysis": ["analytics"],
    "Project management": ["running projects"],
    "Executive presence": [],
    "Building a network": ["networking"],
    "Career planning": ["career development"],
    "Influencing without authority": ["influence"],
    "Team building": ["building teams"],
    "Written communication": ["writing"],
    "Resilience": ["managing stress"],
    "Cross-cultural communication": [],
    "Technical leadership": ["tech lead"],
    "Customer focus": ["customer empathy"],
    "Innovation": ["creativity"],
    "Emotional intelligence": ["EQ"],
    "Mentoring others": [],
    "Succession planning": [],
}

DEPARTMENTS = [
    "Engineering",
    "Product",
    "Sales",
    "Marketing",
    "Finance",
    "People & Culture",
    "Operations",
    "Customer Success",
    "Legal",
    "Data",
]
LOCATIONS = [
    ("London", "Europe/London"),
    ("Berlin", "Europe/Berlin"),
    ("Lisbon", "Europe/Lisbon"),
    ("New York", "America/New_York"),
    ("Toronto", "America/Toronto"),
    ("Singapore", "Asia/Singapore"),
    ("Bangalore", "Asia/Kolkata"),
    ("Sydney", "Australia/Sydney"),
]
FIRST_NAMES = (
    "Aisha Ben Carmen Dmitri Elena Farid Grace Hiro Ines Jonas Kemi Liam Maya Nikhil Olga "
    "Pedro Quinn Rosa Samir Tess Umar Vera Wei Ximena Yusuf Zoe Amara Bruno Chloe Diego "
    "Esther Felix Gita Hugo Ingrid Jamal Keiko Luca Mei Noah"
).split()
LAST_NAMES = (
    "Okafor Schmidt Silva Ivanova Haddad Tanaka Nguyen Larsen Mensah Costa Novak Kowalski "
    "Patel Rossi Dubois Murphy Chen Garcia Khan Andersen Moreau Ali Fischer Santos Reyes Kim"
).split()
GOALS = [
    "Become confident presenting to senior leadership",
    "Prepare for my first people-manager role",
    "Learn to negotiate budgets with other teams",
    "Build a network outside my department",
    "Plan the next step of my career",
    "Lead a cross-functional project end to end",
    "Give feedback that is honest and kind",
    "Think more strategically about my team's roadmap",
]
HOPES = [
    "A sounding board outside my reporting line.",
    "Honest feedback and a few practical habits.",
    "To understand how decisions are made at senior level.",
    "Someone who has made the same move I want to make.",
]
AVAILABILITY = [
    "Tuesday and Thursday afternoons",
    "Monday mornings",
    "Any weekday lunchtime",
    "Wednesday late afternoon",
    "Flexible, with a week's notice",
]
QUESTIONS = [
    ("How useful have your meetings been?", FeedbackQuestion.AnswerKind.SCALE, "everyone"),
    (
        "How well does your mentor listen and challenge you?",
        FeedbackQuestion.AnswerKind.SCALE,
        "mentee",
    ),
    ("How engaged and prepared is your mentee?", FeedbackQuestion.AnswerKind.SCALE, "mentor"),
    (
        "What is one thing that would make the next months better?",
        FeedbackQuestion.AnswerKind.TEXT,
        "everyone",
    ),
]


@dataclass
class DemoSummary:
    people: int
    programs: int
    enrolments: int


def _person_name(index: int) -> str:
    return f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[(index * 7) % len(LAST_NAMES)]}"


def _demo_user(
    email: str, name: str, time_zone: str, password_hash: str, *, is_staff: bool = False
) -> User:
    user, created = User.objects.get_or_create(
        email=email,
        defaults={
            "display_name": name,
            "time_zone": time_zone,
            "password": password_hash,
            "is_staff": is_staff,
            "is_superuser": is_staff,
        },
    )
    if created:
        # allauth wants a verified address record for a smooth first login.
        from allauth.account.models import EmailAddress

        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
    return user


def _competencies() -> list[Competency]:
    terms = []
    for name, synonyms in VOCABULARY.items():
        competency, _ = Competency.objects.get_or_create(name=name)
        for synonym in synonyms:
            CompetencySynonym.objects.get_or_create(
                name=synonym, defaults={"competency": competency}
            )
        terms.append(competency)
    return terms


def _program(name: str, **fields: object) -> Program:
    program, created = Program.objects.get_or_create(name=name, defaults=fields)
    if created:
        FeedbackQuestion.objects.bulk_create(
            FeedbackQuestion(
                program=program, text=text, answer_kind=kind, asked_of=asked_of, position=i
            )
            for i, (text, kind, asked_of) in enumerate(QUESTIONS)
        )
    return program


def _cohort(program: Program, name: str, today: date) -> Cohort:
    cohort, _ = Cohort.objects.get_or_create(
        program=program,
        name=name,
        defaults={
            "status": Cohort.Status.ENROLLING,
            "starts_on": today + timedelta(days=21),
            "ends_on": today + timedelta(days=21 + program.length_weeks * 7),
            "enrolment_opens_on": today - timedelta(days=14),
            "enrolment_closes_on": today + timedelta(days=14),
        },
    )
    return cohort


def _enrol(
    rng: random.Random,
    cohort: Cohort,
    user: User,
    role: str,
    vocabulary: list[Competency],
    *,
    capacity: int | None = None,
) -> None:
    enrolment, created = Enrolment.objects.get_or_create(
        cohort=cohort,
        user=user,
        defaults={
            "role": role,
            "status": Enrolment.Status.APPROVED
            if user.email in DEMO_LOGINS or rng.random() < 0.85
            else Enrolment.Status.APPLIED,
            "capacity": capacity,
            "development_goals": rng.choice(GOALS) if role != Enrolment.Role.MENTOR else "",
            "hopes": rng.choice(HOPES),
            "availability": rng.choice(AVAILABILITY),
            "prefers_other_department": rng.random() < 0.4,
            "prefers_same_time_zone": rng.random() < 0.25,
        },
    )
    if not created:
        return
    kinds = {
        Enrolment.Role.MENTOR: [("expertise", 4), ("offer", 3)],
        Enrolment.Role.MENTEE: [("develop", 3), ("seek", 2)],
        Enrolment.Role.PEER: [("develop", 2), ("offer", 2)],
    }[role]
    links = []
    for kind, count in kinds:
        for competency in rng.sample(vocabulary, count):
            links.append(EnrolmentCompetency(enrolment=enrolment, competency=competency, kind=kind))
    EnrolmentCompetency.objects.bulk_create(links)


@transaction.atomic
def demo_seed() -> DemoSummary:
    rng = random.Random(20261125)
    today = timezone.localdate()
    password_hash = make_password(DEMO_PASSWORD)  # hashed once: 120 hashes would take a minute
    vocabulary = _competencies()

    _demo_user(f"admin@{DEMO_DOMAIN}", "Ada Admin", "Europe/London", password_hash, is_staff=True)
    coordinator = _demo_user(
        f"coordinator@{DEMO_DOMAIN}", "Corinne Coordinator", "Europe/London", password_hash
    )
    second_coordinator = _demo_user(
        f"coordinator2@{DEMO_DOMAIN}", "Kwame Coordinator", "America/New_York", password_hash
    )

    one_to_one = _program(
        "Leadership Mentoring",
        description="Experienced leaders mentor emerging leaders for six months: clear goals, "
        "regular check-ins and honest two-way feedback.",
        kind=Program.Kind.ONE_TO_ONE,
        meeting_cadence_days=14,
        length_weeks=26,
        default_mentor_capacity=2,
        # Both ways of matching in one demo: the coordinator runs matching, and mentees may
        # also choose a recommended mentor themselves.
        mentees_may_request=True,
    )
    peer = _program(
        "Peer Mentoring Circle",
        description="Leaders at a similar level pair up to exchange ideas and practices.",
        kind=Program.Kind.PEER,
        meeting_cadence_days=21,
        length_weeks=16,
    )
    coordinators_group_ensure().user_set.add(coordinator, second_coordinator)
    one_to_one.coordinators.add(coordinator)
    peer.coordinators.add(coordinator, second_coordinator)
    cohort = _cohort(one_to_one, f"Spring {today.year + (1 if today.month > 6 else 0)}", today)
    peer_cohort = _cohort(peer, f"Peers {today.year}", today)
    if not cohort.questions.exists():
        CohortQuestion.objects.bulk_create(
            [
                CohortQuestion(
                    cohort=cohort,
                    text="Has your manager agreed to the time this takes (about 2 hours a month)?",
                    answer_kind=CohortQuestion.AnswerKind.YES_NO,
                    is_required=True,
                    position=0,
                ),
                CohortQuestion(
                    cohort=cohort,
                    text="Anything the coordinator should know when matching you?",
                    answer_kind=CohortQuestion.AnswerKind.LONG_TEXT,
                    position=1,
                ),
            ]
        )

    mentors = []
    for i in range(MENTOR_COUNT):
        email = f"mentor@{DEMO_DOMAIN}" if i == 0 else f"mentor{i:02d}@{DEMO_DOMAIN}"
        location, zone = LOCATIONS[i % len(LOCATIONS)]
        user = _demo_user(email, _person_name(i), zone, password_hash)
        Profile.objects.get_or_create(
            user=user,
            defaults={
                "department": DEPARTMENTS[i % len(DEPARTMENTS)],
                "job_level": rng.choice([5, 5, 6, 6, 7, 8]),
                "job_title": "Senior leader",
                "location": location,
                "languages": ["English"] + (["German"] if zone == "Europe/Berlin" else []),
            },
        )
        mentors.append(user)
    mentees = []
    for i in range(MENTEE_COUNT):
        email = f"mentee@{DEMO_DOMAIN}" if i == 0 else f"mentee{i:02d}@{DEMO_DOMAIN}"
        location, zone = LOCATIONS[(i * 3) % len(LOCATIONS)]
        user = _demo_user(email, _person_name(MENTOR_COUNT + i), zone, password_hash)
        department = DEPARTMENTS[(i * 3) % len(DEPARTMENTS)]
        # Some mentees report to one of the mentors, so matching has a reporting chain to avoid.
        manager = next((m for m in mentors if m.profile.department == department), None)
        Profile.objects.get_or_create(
            user=user,
            defaults={
                "department": department,
                "job_level": rng.choice([1, 2, 2, 3, 3, 4]),
                "job_title": "Team member",
                "location": location,
                "languages": ["English"] + (["Portuguese"] if zone == "Europe/Lisbon" else []),
                "manager": manager if rng.random() < 0.3 else None,
            },
        )
        mentees.append(user)

    # Something for the coordinator to tidy: a misspelt term a mentee suggested.
    Competency.objects.get_or_create(
        name="Public speakng",
        defaults={"status": Competency.Status.SUGGESTED, "suggested_by": mentees[5]},
    )
    if not Invitation.objects.filter(cohort=cohort).exists():
        Invitation.objects.create(
            cohort=cohort,
            email="guest.mentor@partner.example.org",
            role=Enrolment.Role.MENTOR,
            is_external=True,
            invited_by=coordinator,
        )
        one_to_one.allows_external_mentors = True
        one_to_one.save(update_fields=["allows_external_mentors"])
    for user in mentors:
        _enrol(rng, cohort, user, Enrolment.Role.MENTOR, vocabulary, capacity=rng.randint(1, 3))
    for user in mentees:
        _enrol(rng, cohort, user, Enrolment.Role.MENTEE, vocabulary)
    for user in mentors[:12]:
        _enrol(rng, peer_cohort, user, Enrolment.Role.PEER, vocabulary)
    return DemoSummary(
        people=User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").count(),
        programs=Program.objects.count(),
        enrolments=Enrolment.objects.count(),
    )
