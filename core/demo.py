"""A believable demo organisation for `manage.py seed_demo`.

Deterministic (a fixed random seed) and idempotent: people are keyed by email, programs and
cohorts by name, so running it again changes nothing. Later features extend it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import Profile, User
from goals.models import (
    AgreementSignature,
    CheckIn,
    CheckInComment,
    Goal,
    GoalChange,
    Milestone,
    PrivateNote,
    Pulse,
    Reflection,
    SurveyAnswer,
    SurveyResponse,
)
from goals.selectors import reflection_prompts_for
from goals.services import agreement_draft
from matching.models import Relationship, RelationshipMember
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
# One first name per person (the mentors' first, then the mentees'), so no two demo people are
# confused for each other: a pair never shares a first name.
FIRST_NAMES = (
    "Aisha Ben Carmen Dmitri Elena Farid Grace Hiro Ines Jonas Kemi Liam Maya Nikhil Olga "
    "Pedro Quinn Rosa Samir Tess Umar Vera Wei Ximena Yusuf Zoe Amara Bruno Chloe Diego "
    "Esther Felix Gita Hugo Ingrid Jamal Keiko Luca Mei Noah "
    "Abena Arjun Beatriz Callum Dalia Emeka Fatima Gabriel Hana Ivan Jasmine Kofi Leila Mateo "
    "Nadia Oscar Priya Rafael Sana Tomas Uma Viktor Wanjiru Xavier Yara Zain Alice Bilal "
    "Camila Daniel Eun-ji Finn Giulia Hassan Isla Jorge Kavya Lars Mariam Nils Oluwaseun Paula "
    "Ravi Sofia Thabo Ulla Valentina William Yuki Zara Anika Boris Clara Dev Elif Filipe Hannah "
    "Ibrahim Julia Kai Lucia Marco Nora Omar Pilar Rahul Sven Tariq Ursula Vikram Astrid Chidi "
    "Daria Ethan Freya Goran Helena Jun Kamala Leon"
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
# Peers are experienced leaders (the demo's peers are mentors too): goals of the role they hold.
PEER_GOALS = [
    "Lead my team through a reorganisation",
    "Delegate more so I can think further ahead",
    "Handle conflict between two of my direct reports",
    "Build a stronger network across departments",
    "Give candid feedback to experienced people",
    "Make good decisions faster with incomplete information",
    "Prepare a successor for my role",
    "Influence senior stakeholders without authority",
]
# What each role hopes for, in its own voice. The lists keep equal lengths (GOALS and PEER_GOALS
# too), so a seeded draw lands in the same place whichever list a role draws from.
MENTEE_HOPES = [
    "A sounding board outside my reporting line.",
    "Honest feedback and a few practical habits.",
    "To understand how decisions are made at senior level.",
    "Someone who has made the same move I want to make.",
]
MENTOR_HOPES = [
    "To pass on what I learned the hard way, and see the organisation through newer eyes.",
    "To get better at listening and asking questions instead of giving answers.",
    "To help someone grow into a role I once found hard.",
    "To learn from someone earlier in their career as much as I share.",
]
PEER_HOPES = [
    "To compare notes with someone facing the same challenges.",
    "Honest feedback from a peer who knows the pressures of the role.",
    "To swap practices that work and build a network across departments.",
    "A safe place to test ideas before I take them to my team.",
]
HOPES: dict[str, list[str]] = {
    Enrolment.Role.MENTEE: MENTEE_HOPES,
    Enrolment.Role.MENTOR: MENTOR_HOPES,
    Enrolment.Role.PEER: PEER_HOPES,
}
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
    return f"{FIRST_NAMES[index]} {LAST_NAMES[(index * 7) % len(LAST_NAMES)]}"


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


def _program(
    name: str,
    *,
    description: str,
    kind: str,
    meeting_cadence_days: int,
    length_weeks: int,
    default_mentor_capacity: int | None = None,
    mentees_may_request: bool = False,
) -> Program:
    """The demo program called `name`, made with these settings (and the survey questions) the
    first time; left as it is afterwards."""
    defaults: dict[str, object] = {
        "description": description,
        "kind": kind,
        "meeting_cadence_days": meeting_cadence_days,
        "length_weeks": length_weeks,
        "mentees_may_request": mentees_may_request,
    }
    if default_mentor_capacity is not None:
        defaults["default_mentor_capacity"] = default_mentor_capacity
    program, created = Program.objects.get_or_create(name=name, defaults=defaults)
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
            "development_goals": ""
            if role == Enrolment.Role.MENTOR
            else rng.choice(PEER_GOALS if role == Enrolment.Role.PEER else GOALS),
            "hopes": rng.choice(HOPES[role]),
            "availability": rng.choice(AVAILABILITY),
            "prefers_other_department": rng.random() < 0.4,
            "prefers_same_time_zone": rng.random() < 0.25,
        },
    )
    if not created:
        return
    kinds_by_role: dict[str, list[tuple[str, int]]] = {
        Enrolment.Role.MENTOR: [("expertise", 4), ("offer", 3)],
        Enrolment.Role.MENTEE: [("develop", 3), ("seek", 2)],
        Enrolment.Role.PEER: [("develop", 2), ("offer", 2)],
    }
    kinds = kinds_by_role[role]
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
    _running_cohort(one_to_one, mentors[:RUNNING_MENTORS], mentees[:RUNNING_MENTEES], today)
    return DemoSummary(
        people=User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").count(),
        programs=Program.objects.count(),
        enrolments=Enrolment.objects.count(),
    )


# --- A cohort under way, with months of history ----------------------------------------------
# So the demo logins land on relationships with something in them: an agreement, goals, check-ins,
# feedback and a reflection. Written as rows (the services refuse back-dated writes, rightly).

RUNNING_MENTORS = 12
RUNNING_MENTEES = 18
RUNNING_STARTED_DAYS_AGO = 122
LAPSED = {7, 13}  # no check-in for 7+ weeks: at risk
WEAK = {4, 10}  # poor recent pulses: needs attention
SUMMARIES = [
    "Went through the goals and agreed what a good first month looks like.",
    "Rehearsed the opening of the quarterly review; the story is clearer now.",
    "Talked about a difficult conversation with a peer and how to prepare for it.",
    "Reviewed the stakeholder map and picked two people to build a relationship with.",
    "Discussed delegation: what to hand over first and how to check in without hovering.",
    "Looked back at the presentation: strong content, the pace was too fast.",
    "Worked through a budget proposal and the questions finance will ask.",
    "Shared how decisions get made at director level and who to involve early.",
    "Planned the next career step and the experience still missing for it.",
    "Practised giving feedback with a real example from this week.",
]
NEXT_STEPS = [
    "Draft the outline and share it before our next meeting.",
    "Book a coffee with two people from the map.",
    "Try the feedback model once and note how it went.",
    "Read the chapter on negotiation we talked about.",
    "",
]
COMMENTS = [
    "Thanks, this was really useful.",
    "Good summary. I would add that we agreed to revisit the timeline.",
    "I tried it the next day and it worked better than expected.",
]
PULSE_LINES = ["", "", "Clear and practical.", "Good challenge.", "Left with a plan."]
WEAK_LINES = ["We ran out of time.", "Felt rushed.", ""]
RUNNING_GOALS = [
    # (status, progress range)
    (Goal.Status.DONE, (100, 100)),
    (Goal.Status.ON_TRACK, (45, 80)),
    (Goal.Status.ON_TRACK, (40, 70)),
    (Goal.Status.AT_RISK, (10, 30)),
    (Goal.Status.NOT_STARTED, (0, 0)),
]
SURVEY_TEXTS = [
    "More time to prepare between meetings.",
    "A clearer agenda for each meeting.",
    "Meeting in person once a month.",
]


def _at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _running_cohort(
    program: Program, mentors: list[User], mentees: list[User], today: date
) -> None:
    """The one-to-one program's cohort that started four months ago, its pairs and history."""
    started_on = today - timedelta(days=RUNNING_STARTED_DAYS_AGO)
    cohort, _ = Cohort.objects.get_or_create(
        program=program,
        name="Pilot",  # fixed: the seed finds its cohorts by name
        defaults={
            "status": Cohort.Status.ACTIVE,
            "starts_on": started_on,
            "ends_on": today + timedelta(days=60),
            "enrolment_opens_on": started_on - timedelta(days=42),
            "enrolment_closes_on": started_on - timedelta(days=14),
        },
    )
    if cohort.relationships.exists():
        return  # already seeded: its history is not rewritten on every run
    rng = random.Random(20251001)  # its own seed: the main cohort's draws stay as they were
    enrolments = {
        (user.pk, role): Enrolment(
            cohort=cohort,
            user=user,
            role=role,
            status=Enrolment.Status.APPROVED,
            capacity=2 if role == Enrolment.Role.MENTOR else None,
            development_goals=rng.choice(GOALS) if role == Enrolment.Role.MENTEE else "",
            hopes=rng.choice(HOPES[role]),
            availability=rng.choice(AVAILABILITY),
        )
        for users, role in ((mentors, Enrolment.Role.MENTOR), (mentees, Enrolment.Role.MENTEE))
        for user in users
        if not Enrolment.objects.filter(cohort=cohort, user=user).exists()
    }
    Enrolment.objects.bulk_create(enrolments.values())
    by_user = {e.user_id: e for e in Enrolment.objects.filter(cohort=cohort)}

    now = timezone.now()
    relationships = Relationship.objects.bulk_create(
        Relationship(
            cohort=cohort,
            kind=Relationship.Kind.PAIR,
            # The demo logins (index 0) start with the cohort; others a few days later.
            started_at=now
            - timedelta(days=RUNNING_STARTED_DAYS_AGO - (rng.randint(0, 6) if i else 0)),
        )
        for i in range(len(mentees))
    )
    pairs = []
    for i, (relationship, mentee) in enumerate(zip(relationships, mentees, strict=True)):
        mentor = mentors[i % len(mentors)]
        pairs.append(
            (
                RelationshipMember(
                    relationship=relationship, enrolment=by_user[mentor.pk], role="mentor"
                ),
                RelationshipMember(
                    relationship=relationship, enrolment=by_user[mentee.pk], role="mentee"
                ),
            )
        )
    RelationshipMember.objects.bulk_create(m for pair in pairs for m in pair)

    signatures, goals, check_ins, timed = [], [], [], []
    goal_plans: list[tuple[Goal, list[tuple[str, bool]]]] = []
    for i, (relationship, (mentor_member, mentee_member)) in enumerate(
        zip(relationships, pairs, strict=True)
    ):
        agreement = agreement_draft(relationship=relationship)
        signers = (mentor_member, mentee_member) if i % 3 != 2 else (mentor_member,)
        signatures += [
            AgreementSignature(agreement=agreement, member=m, version=agreement.version)
            for m in signers
        ]
        start = timezone.localdate(relationship.started_at)
        # The demo mentee's goals go well; the others' are a mix.
        plans = (
            [RUNNING_GOALS[0], RUNNING_GOALS[1], RUNNING_GOALS[2]]
            if i == 0
            else (rng.sample(RUNNING_GOALS, rng.randint(1, 3)))
        )
        for n, (status, (low, high)) in enumerate(plans):
            goal = Goal(
                relationship=relationship,
                owner=mentee_member,
                title=GOALS[(i + n) % len(GOALS)],
                measure="Agreed with my mentor at our first meeting",
                target_date=start
                + timedelta(days=180 if i == 0 else rng.choice([90, 120, 150, 180])),
                status=status,
                progress=rng.randint(low, high),
                created_by=mentee_member.enrolment.user,
            )
            goals.append(goal)
            goal_plans.append(
                (goal, [("Agree the plan", True), ("First real attempt", goal.progress >= 50)])
            )
        last_day = today - timedelta(days=50 if i in LAPSED else 3)
        day = start + timedelta(days=rng.randint(4, 10))
        dates = []
        while day <= last_day:
            dates.append(day)
            day += timedelta(days=rng.choice([14, 14, 21, 28]))
        for n, met_on in enumerate(dates):
            latest = n == len(dates) - 1
            logger, other = (
                (mentee_member, mentor_member)
                if rng.random() < 0.7
                else (mentor_member, mentee_member)
            )
            confirmed = not latest or rng.random() < 0.5
            check_ins.append(
                CheckIn(
                    relationship=relationship,
                    logged_by=logger,
                    met_on=met_on,
                    duration_minutes=rng.choice([30, 45, 45, 60]),
                    mode=rng.choice(
                        [CheckIn.Mode.VIDEO, CheckIn.Mode.VIDEO, CheckIn.Mode.IN_PERSON]
                    ),
                    summary=SUMMARIES[(i + n) % len(SUMMARIES)],
                    next_steps=rng.choice(NEXT_STEPS),
                    next_meeting_at=_at(today + timedelta(days=rng.randint(3, 12)), 9 + i % 8)
                    if latest and i not in LAPSED
                    else None,
                    confirmed_by=other if confirmed else None,
                    confirmed_at=_at(met_on + timedelta(days=1), 18) if confirmed else None,
                )
            )
            timed.append(_at(met_on, 17))
    AgreementSignature.objects.bulk_create(signatures)
    Goal.objects.bulk_create(goals)
    Milestone.objects.bulk_create(
        Milestone(
            goal=goal,
            title=title,
            due_on=goal.target_date - timedelta(days=60 - 40 * n),
            done_at=_at(goal.target_date - timedelta(days=70 - 40 * n)) if done else None,
        )
        for goal, plan in goal_plans
        for n, (title, done) in enumerate(plan)
    )
    changes = []
    for goal in goals:
        changed_by = goal.created_by
        if goal.progress:
            middle = goal.progress // 2
            changes += [
                GoalChange(
                    goal=goal,
                    changed_by=changed_by,
                    field="progress",
                    old_value="0",
                    new_value=str(middle),
                ),
                GoalChange(
                    goal=goal,
                    changed_by=changed_by,
                    field="progress",
                    old_value=str(middle),
                    new_value=str(goal.progress),
                ),
            ]
        if goal.status != Goal.Status.NOT_STARTED:
            changes.append(
                GoalChange(
                    goal=goal,
                    changed_by=changed_by,
                    field="status",
                    old_value=Goal.Status.NOT_STARTED,
                    new_value=goal.status,
                )
            )
    GoalChange.objects.bulk_create(changes)
    _backdate(
        changes,
        "changed_at",
        [now - timedelta(days=60 - 20 * (n % 3)) for n in range(len(changes))],
    )
    CheckIn.objects.bulk_create(check_ins)
    _backdate(check_ins, "created_at", timed)

    members = {r.pk: pair for r, pair in zip(relationships, pairs, strict=True)}
    index = {r.pk: i for i, r in enumerate(relationships)}
    pulses, pulse_times, comments, comment_times = [], [], [], []
    for check_in, at in zip(check_ins, timed, strict=True):
        mentor_member, mentee_member = members[check_in.relationship_id]
        i = index[check_in.relationship_id]
        weak = i in WEAK and check_in.met_on >= today - timedelta(days=50)
        for member in (mentee_member, mentor_member):
            if member is mentor_member and rng.random() < 0.5:
                continue  # not everyone taps
            pulses.append(
                Pulse(
                    check_in=check_in,
                    author=member,
                    usefulness=rng.randint(1, 2) if weak else rng.randint(3, 5),
                    line=rng.choice(WEAK_LINES if weak else PULSE_LINES),
                )
            )
            pulse_times.append(at + timedelta(hours=2))
        if rng.random() < 0.12:
            author = mentor_member if check_in.logged_by_id == mentee_member.pk else mentee_member
            comments.append(
                CheckInComment(check_in=check_in, author=author, text=rng.choice(COMMENTS))
            )
            comment_times.append(at + timedelta(hours=20))
    Pulse.objects.bulk_create(pulses)
    _backdate(pulses, "created_at", pulse_times)
    CheckInComment.objects.bulk_create(comments)
    _backdate(comments, "created_at", comment_times)

    _running_surveys(program, relationships, pairs, rng, now)
    _running_journal(relationships[0], pairs[0], check_ins, now)


def _backdate(rows: list, field: str, moments: list[datetime]) -> None:
    """`auto_now_add` stamps rows with today on insert; history needs its own dates."""
    for row, moment in zip(rows, moments, strict=True):
        setattr(row, field, moment)
    if rows:
        type(rows[0]).objects.bulk_update(rows, [field], batch_size=500)


def _running_surveys(
    program: Program,
    relationships: list[Relationship],
    pairs: list[tuple[RelationshipMember, RelationshipMember]],
    rng: random.Random,
    now: datetime,
) -> None:
    """Midpoint surveys (the cohort is past half way) from some of the members."""
    questions = list(program.questions.order_by("position", "pk"))
    responses, plans = [], []
    for i, (relationship, pair) in enumerate(zip(relationships, pairs, strict=True)):
        for member in pair:
            if i == 0 or rng.random() < 0.45:
                continue  # the demo logins still have their midpoint survey to do
            responses.append(
                SurveyResponse(relationship=relationship, author=member, stage="midpoint")
            )
            plans.append((member.role, i in WEAK))
    SurveyResponse.objects.bulk_create(responses)
    _backdate(
        responses, "submitted_at", [now - timedelta(days=rng.randint(5, 25)) for _ in responses]
    )
    answers = []
    for response, (role, weak) in zip(responses, plans, strict=True):
        for question in questions:
            if question.asked_of not in (role, FeedbackQuestion.AskedOf.EVERYONE):
                continue
            if question.answer_kind == FeedbackQuestion.AnswerKind.SCALE:
                value = rng.randint(1, 3) if weak else rng.randint(3, 5)
                answers.append(
                    SurveyAnswer(
                        response=response,
                        question=question,
                        scale_value=value,
                        visible_to=question.visible_to,
                    )
                )
            elif rng.random() < 0.6:
                answers.append(
                    SurveyAnswer(
                        response=response,
                        question=question,
                        text_value=rng.choice(SURVEY_TEXTS),
                        visible_to=question.visible_to,
                    )
                )
    SurveyAnswer.objects.bulk_create(answers)


def _running_journal(
    relationship: Relationship,
    pair: tuple[RelationshipMember, RelationshipMember],
    check_ins: list[CheckIn],
    now: datetime,
) -> None:
    """The demo logins' reflections (two shared) and the demo mentee's private notes."""
    mentor, mentee = (member.enrolment.user for member in pair)
    theirs = [c for c in check_ins if c.relationship_id == relationship.pk]
    reflections = [
        Reflection(
            author=mentee,
            relationship=relationship,
            stage=Reflection.Stage.START,
            prompt=reflection_prompts_for(
                role=RelationshipMember.Role.MENTEE, stage=Reflection.Stage.START
            )[0],
            text="Someone who asks the question I am avoiding, and who has led a team through "
            "a reorganisation.",
            shared=True,
        ),
        Reflection(
            author=mentee,
            relationship=relationship,
            stage=Reflection.Stage.MIDDLE,
            prompt=reflection_prompts_for(
                role=RelationshipMember.Role.MENTEE, stage=Reflection.Stage.MIDDLE
            )[0],
            text="The feedback on my presentation stung at first. I slowed down, cut half the "
            "slides, and the second run went much better.",
        ),
        Reflection(
            author=mentor,
            relationship=relationship,
            stage=Reflection.Stage.MIDDLE,
            prompt=reflection_prompts_for(
                role=RelationshipMember.Role.MENTOR, stage=Reflection.Stage.MIDDLE
            )[2],
            text="Explaining how I prepare for budget meetings made me notice habits I had "
            "never written down.",
            shared=True,
        ),
    ]
    Reflection.objects.bulk_create(reflections)
    _backdate(reflections, "created_at", [now - timedelta(days=d) for d in (110, 30, 20)])
    notes = [
        PrivateNote(
            author=mentee,
            relationship=relationship,
            check_in=theirs[-1] if theirs else None,
            text="I did not say how worried I am about the reorganisation. Bring it up next time.",
        ),
        PrivateNote(
            author=mentee,
            relationship=relationship,
            text="Ask about the leadership programme deadline before the end of the month.",
        ),
    ]
    PrivateNote.objects.bulk_create(notes)
