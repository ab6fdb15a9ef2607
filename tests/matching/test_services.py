"""Services of matching: runs, decisions on proposals, swaps, publishing, self-service requests
and relationships. Each test checks what a coordinator or participant would notice: the rows,
the refusals (by their message) and the emails sent after commit."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from matching import selectors, services
from matching.models import (
    MatchingConfig,
    MatchRun,
    MentorRequest,
    Proposal,
    Relationship,
    RelationshipMember,
)
from programs.models import BulkJob, Cohort, Enrolment, Program
from programs.services import COHORT_NEEDS_PUBLISHED_MATCHES, cohort_transition
from tests.factories import CohortFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def refusal(call: Callable, **kwargs: object) -> list[str]:
    """The messages of the ValidationError `call` raises."""
    with pytest.raises(ValidationError) as error:
        call(**kwargs)
    return error.value.messages


def finished_run(cohort: Cohort, by, **kwargs: Any) -> MatchRun:
    """Create a run and execute it as the worker would once the transaction commits."""
    run = services.match_run_create(cohort=cohort, created_by=by, **kwargs)
    return services.match_run_execute(run_id=run.pk)


def publish(run: MatchRun, by) -> BulkJob:
    """Publish a run as the coordinator's press and the worker after commit would."""
    job = services.match_run_publish(run=run, published_by=by)
    return services.match_run_publish_execute(job_id=job.pk)


def published(run: MatchRun) -> list[Relationship]:
    return list(Relationship.objects.filter(source_run=run).order_by("pk"))


def skipped(run: MatchRun) -> list[Proposal]:
    return list(run.proposals.filter(publication=Proposal.Publication.SKIPPED).order_by("pk"))


def pairs_of(run: MatchRun) -> set[tuple[int, int]]:
    return set(run.proposals.values_list("mentor_id", "mentee_id"))


def members_of(relationship: Relationship) -> set[tuple[int, str]]:
    return set(relationship.members.values_list("enrolment_id", "role"))


def to(enrolment: Enrolment) -> list:
    """What was sent to this person, in order."""
    from django.core import mail

    return [m for m in mail.outbox if m.to == [enrolment.user.email]]


@pytest.fixture
def run(matching_cohort, coordinator) -> MatchRun:
    """A finished run of `matching_cohort`: Maya with Mo and Eli, Theo with Dana."""
    return finished_run(matching_cohort, coordinator)


@pytest.fixture
def nia(make_mentor) -> Enrolment:
    """A mentor with one free place, added after any run (so no run uses her)."""
    return make_mentor(name="Nia Mentor", department="Legal", expertise=["Negotiation"])


# --- Creating a run ----------------------------------------------------------------------------


def test_it_refuses_a_run_before_the_cohort_is_matching(cohort, matching_people, coordinator):
    assert cohort.status == Cohort.Status.ENROLLING

    assert refusal(services.match_run_create, cohort=cohort, created_by=coordinator) == [
        services.MATCHING_NOT_OPEN
    ]
    assert not MatchRun.objects.exists()


def test_it_refuses_a_second_run_while_one_is_queued_or_running(
    matching_cohort, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        first = services.match_run_create(cohort=matching_cohort, created_by=coordinator)

    assert refusal(services.match_run_create, cohort=matching_cohort, created_by=coordinator) == [
        services.RUN_IN_PROGRESS
    ]
    MatchRun.objects.filter(pk=first.pk).update(status=MatchRun.Status.RUNNING)
    assert refusal(services.match_run_create, cohort=matching_cohort, created_by=coordinator) == [
        services.RUN_IN_PROGRESS
    ]
    MatchRun.objects.filter(pk=first.pk).update(status=MatchRun.Status.FAILED)
    assert services.match_run_create(cohort=matching_cohort, created_by=coordinator)


def test_it_queues_the_run_for_a_worker_once_committed(
    matching_cohort, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = services.match_run_create(cohort=matching_cohort, created_by=coordinator)

    assert len(callbacks) == 1
    run.refresh_from_db()
    assert run.status == MatchRun.Status.QUEUED
    assert run.created_by == coordinator
    assert not run.proposals.exists()


def test_it_runs_to_the_end_after_commit_with_an_eager_worker(
    matching_cohort, matching_people, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.match_run_create(cohort=matching_cohort, created_by=coordinator)

    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUCCEEDED
    p = matching_people
    assert pairs_of(run) == {(p.maya.pk, p.mo.pk), (p.maya.pk, p.eli.pk), (p.theo.pk, p.dana.pk)}


def test_it_stores_the_parameters_the_run_uses(
    program, matching_cohort, matching_people, coordinator, nia
):
    p = matching_people
    MatchingConfig.objects.create(
        program=program, weight_text=1.0, weight_level=2.5, max_time_zone_gap_hours=4
    )
    services.match_exclusion_add(
        cohort=matching_cohort, first=p.theo, second=p.eli, reason="", created_by=coordinator
    )
    earlier = finished_run(matching_cohort, coordinator)
    services.proposal_lock(proposal=earlier.proposals.get(mentee=p.mo), locked=True)

    run = services.match_run_create(
        cohort=matching_cohort,
        created_by=coordinator,
        objective=MatchRun.Objective.COVERAGE,
        relax=selectors.Relaxation(language=True),
        locked_from=earlier,
    )

    run.refresh_from_db()
    assert run.objective == "coverage"
    parameters = run.parameters
    assert parameters["mode"] == "one_to_one"
    assert parameters["objective"] == "coverage"
    assert parameters["weights"]["text"] == 1.0
    assert parameters["weights"]["level"] == 2.5
    assert parameters["weights"]["development"] == 3.0
    assert parameters["rules"]["require_shared_language"] is False  # relaxed for this run
    assert parameters["rules"]["max_time_zone_gap_hours"] == 4
    assert parameters["rules"]["allow_past_partners"] is False
    assert parameters["rules"]["excluded_pairs"] == [sorted([p.theo.pk, p.eli.pk])]
    assert parameters["relaxed"] == ["language"]
    assert parameters["locked_pairs"] == [[p.maya.pk, p.mo.pk]]


# --- Executing a run ---------------------------------------------------------------------------


def test_it_stores_proposals_with_explanations_and_alternatives(run, matching_people):
    p = matching_people
    assert run.status == MatchRun.Status.SUCCEEDED
    mo = run.proposals.get(mentee=p.mo)

    assert mo.mentor == p.maya
    assert mo.decision == Proposal.Decision.PROPOSED
    assert not mo.locked
    assert mo.explanation.startswith(
        "Mentor has expertise in what the mentee wants to develop: public speaking"
    )
    assert "mentor offers public speaking" in mo.explanation
    assert mo.components["development"] == 1.0
    assert mo.alternatives == [
        {"mentor": p.theo.pk, "score": pytest.approx(0.3), "has_capacity": False}
    ]
    assert 0 < mo.score <= 1


def test_it_stores_counts_objective_duration_and_full_progress(run):
    assert run.matched_count == 3
    assert run.unmatched_count == 0
    assert run.objective_value == pytest.approx(sum(p.score for p in run.proposals.all()))
    assert run.duration_seconds > 0
    assert run.started_at <= run.finished_at
    assert (run.progress, run.progress_message) == (100, "Done")
    assert run.error == ""


def test_it_stores_who_is_left_out_and_why(matching_cohort, coordinator, make_mentee, make_mentor):
    paula = make_mentee(name="Paula Portuguese", languages=["Portuguese"], develop=["Negotiation"])
    idle = make_mentor(name="Ida Idle", languages=["Finnish"])

    run = finished_run(matching_cohort, coordinator)

    reasons = {u.enrolment_id: (u.reason_code, u.reason) for u in run.unmatched.all()}
    assert reasons[paula.pk] == ("language", "no mentor speaks their language")
    assert reasons[idle.pk][0] == "no_eligible_mentee"
    assert (run.matched_count, run.unmatched_count) == (3, 1)  # mentors are not counted


def test_it_executes_a_run_once(run, matching_people):
    proposals = list(run.proposals.values_list("pk", "mentor_id", "mentee_id", "score"))
    finished_at = run.finished_at

    again = services.match_run_execute(run_id=run.pk)

    assert again.status == MatchRun.Status.SUCCEEDED
    assert again.finished_at == finished_at
    assert list(again.proposals.values_list("pk", "mentor_id", "mentee_id", "score")) == proposals
    assert again.unmatched.count() == 0


def test_it_marks_a_failed_run_and_leaves_earlier_runs_alone(
    run, matching_cohort, coordinator, monkeypatch
):
    earlier = set(run.proposals.values_list("pk", "mentor_id", "mentee_id", "decision"))

    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("matching.services.runs.match", boom)
    failed = finished_run(matching_cohort, coordinator)

    assert failed.status == MatchRun.Status.FAILED
    assert failed.error == "RuntimeError: boom"
    assert failed.finished_at is not None
    assert not failed.proposals.exists()
    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUCCEEDED
    assert set(run.proposals.values_list("pk", "mentor_id", "mentee_id", "decision")) == earlier
    # A failed run does not block the next one.
    monkeypatch.undo()
    assert finished_run(matching_cohort, coordinator).status == MatchRun.Status.SUCCEEDED


# --- Deciding on proposals ---------------------------------------------------------------------


def test_it_records_a_decision(run, matching_people):
    proposal = run.proposals.get(mentee=matching_people.eli)

    services.proposal_decide(proposal=proposal, decision="rejected")

    proposal.refresh_from_db()
    assert proposal.decision == Proposal.Decision.REJECTED


def test_it_accepts_every_proposed_pair_but_keeps_rejections(run, matching_people):
    rejected = run.proposals.get(mentee=matching_people.eli)
    services.proposal_decide(proposal=rejected, decision="rejected")

    assert services.proposals_accept_all(run=run) == 2

    decisions = dict(run.proposals.values_list("mentee_id", "decision"))
    assert decisions == {
        matching_people.mo.pk: "accepted",
        matching_people.dana.pk: "accepted",
        matching_people.eli.pk: "rejected",
    }


def test_it_accepts_a_pair_when_locking_it(run, matching_people):
    proposal = run.proposals.get(mentee=matching_people.eli)
    services.proposal_decide(proposal=proposal, decision="rejected")

    services.proposal_lock(proposal=proposal, locked=True)
    proposal.refresh_from_db()
    assert (proposal.locked, proposal.decision) == (True, Proposal.Decision.ACCEPTED)

    services.proposal_lock(proposal=proposal, locked=False)
    proposal.refresh_from_db()
    assert (proposal.locked, proposal.decision) == (False, Proposal.Decision.ACCEPTED)


def unfinished_run(cohort: Cohort, people) -> MatchRun:
    run = MatchRun.objects.create(cohort=cohort, status=MatchRun.Status.RUNNING)
    Proposal.objects.create(run=run, mentor=people.maya, mentee=people.mo, score=0.5)
    return run


def published_run(cohort: Cohort, people, by) -> MatchRun:
    run = finished_run(cohort, by)
    services.proposal_decide(proposal=run.proposals.get(mentee=people.dana), decision="accepted")
    publish(run, by)
    return MatchRun.objects.get(pk=run.pk)


def being_published_run(cohort: Cohort, people, by) -> MatchRun:
    """Its publishing queued, and no worker has run it yet."""
    run = finished_run(cohort, by)
    services.proposal_decide(proposal=run.proposals.get(mentee=people.dana), decision="accepted")
    services.match_run_publish(run=run, published_by=by)
    return MatchRun.objects.get(pk=run.pk)


ACTIONS = {
    "decide": lambda run, nia: services.proposal_decide(
        proposal=run.proposals.order_by("pk").first(), decision="accepted"
    ),
    "accept_all": lambda run, nia: services.proposals_accept_all(run=run),
    "lock": lambda run, nia: services.proposal_lock(
        proposal=run.proposals.order_by("pk").first(), locked=True
    ),
    "swap": lambda run, nia: services.proposal_swap(
        proposal=run.proposals.order_by("pk").first(), mentor=nia
    ),
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(
    ("make_run", "message"),
    [
        (lambda c, p, by: unfinished_run(c, p), services.RUN_NOT_FINISHED),
        (published_run, services.RUN_ALREADY_PUBLISHED),
        (being_published_run, services.RUN_BEING_PUBLISHED),
    ],
    ids=["unfinished", "published", "being-published"],
)
def test_it_refuses_changes_to_an_unfinished_or_published_run(
    matching_cohort, matching_people, coordinator, nia, action, make_run, message
):
    run = make_run(matching_cohort, matching_people, coordinator)
    before = set(run.proposals.values_list("mentor_id", "mentee_id", "decision", "locked"))

    assert refusal(ACTIONS[action], run=run, nia=nia) == [message]
    assert set(run.proposals.values_list("mentor_id", "mentee_id", "decision", "locked")) == before


# --- Swapping a mentor by hand -----------------------------------------------------------------


def test_it_swaps_a_mentor_and_tells_the_change_in_score(run, matching_people, nia):
    proposal = run.proposals.get(mentee=matching_people.mo)
    original = proposal.score

    result = services.proposal_swap(proposal=proposal, mentor=nia)

    assert result.score_before == original
    assert result.score_after < original  # Nia has none of what Mo wants to develop
    assert result.change == pytest.approx(result.score_after - original)
    proposal.refresh_from_db()
    assert proposal.mentor == nia
    assert proposal.score == result.score_after
    assert "public speaking" not in proposal.explanation
    assert proposal.components["development"] == 0.0
    assert proposal.swapped_from == matching_people.maya
    assert proposal.score_before_swap == original


def test_it_remembers_the_engines_pair_across_two_swaps(run, matching_people, nia, make_mentor):
    rae = make_mentor(name="Rae Mentor", expertise=["Public speaking"])
    proposal = run.proposals.get(mentee=matching_people.mo)
    original = proposal.score

    services.proposal_swap(proposal=proposal, mentor=nia)
    second = services.proposal_swap(proposal=proposal, mentor=rae)

    proposal.refresh_from_db()
    assert proposal.mentor == rae
    assert second.score_before < second.score_after  # from Nia's score to Rae's
    assert proposal.swapped_from == matching_people.maya
    assert proposal.score_before_swap == original


def test_it_refuses_to_swap_to_the_same_mentor(run, matching_people):
    proposal = run.proposals.get(mentee=matching_people.mo)

    assert refusal(services.proposal_swap, proposal=proposal, mentor=matching_people.maya) == [
        services.SWAP_SAME_MENTOR
    ]


def test_it_refuses_to_swap_to_someone_who_is_not_a_mentor_of_the_cohort(
    run, program, matching_people, make_mentor, make_mentee
):
    proposal = run.proposals.get(mentee=matching_people.mo)
    elsewhere = make_mentor(cohort=CohortFactory(program=program), name="Xan Elsewhere")
    applied = make_mentor(name="Abe Applied", status=Enrolment.Status.APPLIED)

    for candidate in (matching_people.dana, elsewhere, applied):
        assert refusal(services.proposal_swap, proposal=proposal, mentor=candidate) == [
            services.SWAP_NOT_A_MENTOR
        ]
    proposal.refresh_from_db()
    assert proposal.mentor == matching_people.maya


def test_it_refuses_a_swap_that_breaks_a_rule(run, matching_people, make_mentor):
    boss = make_mentor(name="Bo Boss", capacity=3, expertise=["Public speaking"])
    profile = matching_people.mo.user.profile
    profile.manager = boss.user
    profile.save()
    proposal = run.proposals.get(mentee=matching_people.mo)

    [message] = refusal(services.proposal_swap, proposal=proposal, mentor=boss)

    assert message == "Bo Boss cannot mentor Mo Mentee: they are in the same reporting chain."
    proposal.refresh_from_db()
    assert proposal.mentor == matching_people.maya


def test_it_refuses_a_swap_to_a_mentor_full_in_this_run(run, matching_people):
    proposal = run.proposals.get(mentee=matching_people.mo)

    assert refusal(services.proposal_swap, proposal=proposal, mentor=matching_people.theo) == [
        "Theo Mentor has no place left."
    ]


def test_it_swaps_to_a_mentor_whose_other_pair_was_rejected(run, matching_people):
    services.proposal_decide(
        proposal=run.proposals.get(mentee=matching_people.dana), decision="rejected"
    )
    proposal = run.proposals.get(mentee=matching_people.mo)

    services.proposal_swap(proposal=proposal, mentor=matching_people.theo)

    proposal.refresh_from_db()
    assert proposal.mentor == matching_people.theo


# --- Running again -----------------------------------------------------------------------------


def test_it_reruns_with_the_locked_pairs_objective_and_relaxations(
    matching_cohort, matching_people, coordinator, nia
):
    p = matching_people
    first = finished_run(
        matching_cohort,
        coordinator,
        objective=MatchRun.Objective.COVERAGE,
        relax=selectors.Relaxation(language=True, past_partners=True),
    )
    kept = first.proposals.get(mentee=p.mo)
    services.proposal_swap(proposal=kept, mentor=nia)  # not what the engine would choose
    services.proposal_lock(proposal=kept, locked=True)

    rerun = services.match_run_rerun(run=first, created_by=coordinator)
    rerun = services.match_run_execute(run_id=rerun.pk)

    assert rerun.pk != first.pk
    assert rerun.status == MatchRun.Status.SUCCEEDED
    assert rerun.objective == MatchRun.Objective.COVERAGE
    assert sorted(rerun.parameters["relaxed"]) == ["language", "past_partners"]
    locked = rerun.proposals.get(mentee=p.mo)
    assert (locked.mentor, locked.locked, locked.decision) == (nia, True, "accepted")
    assert rerun.proposals.filter(locked=True).count() == 1
    # The first run is as it was.
    assert first.proposals.get(mentee=p.mo).mentor == nia


# --- Publishing --------------------------------------------------------------------------------


def test_it_publishes_accepted_pairs_and_emails_everyone_after_commit(
    run, matching_people, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    p = matching_people
    services.proposals_accept_all(run=run)

    with django_capture_on_commit_callbacks() as callbacks:
        job = services.match_run_publish(run=run, published_by=coordinator)
    assert not Relationship.objects.exists()  # the request only queues the job
    with django_capture_on_commit_callbacks() as callbacks:
        job = services.match_run_publish_execute(job_id=job.pk)
    assert mailoutbox == []  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()

    run.refresh_from_db()
    assert run.published_at is not None
    assert (job.status, job.done, job.total) == ("done", 3, 3)
    assert job.summary == "Published 3 pairs. Everyone in them is emailed."
    assert skipped(run) == []
    relationships = Relationship.objects.filter(source_run=run)
    assert relationships.count() == 3
    assert {frozenset(members_of(r)) for r in relationships} == {
        frozenset({(p.maya.pk, "mentor"), (p.mo.pk, "mentee")}),
        frozenset({(p.maya.pk, "mentor"), (p.eli.pk, "mentee")}),
        frozenset({(p.theo.pk, "mentor"), (p.dana.pk, "mentee")}),
    }
    for relationship in relationships:
        assert relationship.kind == Relationship.Kind.PAIR
        assert relationship.status == Relationship.Status.ACTIVE
        assert relationship.cohort == run.cohort
        assert relationship.explanation.startswith("Mentor has expertise")
    assert Counter(m.to[0] for m in mailoutbox) == {
        p.maya.user.email: 2,
        p.theo.user.email: 1,
        p.mo.user.email: 1,
        p.dana.user.email: 1,
        p.eli.user.email: 1,
    }
    [to_mo] = to(p.mo)
    assert to_mo.subject == "You have been matched in Leadership Mentoring"
    assert "Your mentor in Leadership Mentoring" in to_mo.body
    assert "Maya Mentor (mentor), maya.mentor@example.org" in to_mo.body
    assert sorted("Mo Mentee" in m.body for m in to(p.maya)) == [False, True]
    assert sorted("Eli Mentee" in m.body for m in to(p.maya)) == [False, True]
    assert "Dana Mentee (mentee)" in to(p.theo)[0].body


def test_it_publishes_only_accepted_pairs(run, matching_people, coordinator):
    services.proposal_decide(
        proposal=run.proposals.get(mentee=matching_people.dana), decision="accepted"
    )
    services.proposal_decide(
        proposal=run.proposals.get(mentee=matching_people.eli), decision="rejected"
    )

    publish(run, coordinator)

    [relationship] = published(run)
    assert members_of(relationship) == {
        (matching_people.theo.pk, "mentor"),
        (matching_people.dana.pk, "mentee"),
    }


def test_it_skips_a_mentee_who_meanwhile_got_a_mentor(
    run, matching_cohort, matching_people, coordinator, nia
):
    p = matching_people
    services.proposals_accept_all(run=run)
    meanwhile = services.relationship_create(cohort=matching_cohort, mentor=nia, mentee=p.dana)

    job = publish(run, coordinator)

    assert [s.mentee for s in skipped(run)] == [p.dana]
    assert len(published(run)) == 2
    assert job.details == ["Skipped 1: meanwhile they got a mentor another way (Dana Mentee)."]
    assert list(
        Relationship.objects.filter(members__enrolment=p.dana).values_list("pk", flat=True)
    ) == [meanwhile.pk]


def test_a_second_press_shows_the_same_job_and_publishes_once(
    run, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    services.proposals_accept_all(run=run)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = services.match_run_publish(run=run, published_by=coordinator)
        second = services.match_run_publish(run=run, published_by=coordinator)

    assert second == first
    assert BulkJob.objects.count() == 1
    assert len(queued) == 1, "one task for one job"

    with django_capture_on_commit_callbacks(execute=True):
        services.match_run_publish_execute(job_id=first.pk)
        # Pressed again once it is done, or its task delivered again: still that job, no work.
        assert services.match_run_publish(run=run, published_by=coordinator) == first
        services.match_run_publish_execute(job_id=first.pk)

    assert Relationship.objects.count() == 3
    assert len(mailoutbox) == 6


def test_it_refuses_to_publish_a_run_published_before_jobs(run, coordinator):
    services.proposals_accept_all(run=run)
    MatchRun.objects.filter(pk=run.pk).update(published_at=NOW)

    assert refusal(services.match_run_publish, run=run, published_by=coordinator) == [
        services.RUN_ALREADY_PUBLISHED
    ]
    assert not BulkJob.objects.exists()


def test_it_refuses_to_publish_with_nothing_accepted(run, matching_people, coordinator):
    services.proposal_decide(
        proposal=run.proposals.get(mentee=matching_people.mo), decision="rejected"
    )

    assert refusal(services.match_run_publish, run=run, published_by=coordinator) == [
        services.NOTHING_ACCEPTED
    ]
    run.refresh_from_db()
    assert run.published_at is None
    assert not Relationship.objects.exists()


def test_it_lets_the_cohort_become_active_once_matches_are_published(
    run, matching_cohort, coordinator
):
    assert refusal(cohort_transition, cohort=matching_cohort, to_status="active") == [
        COHORT_NEEDS_PUBLISHED_MATCHES
    ]
    services.proposals_accept_all(run=run)
    publish(run, coordinator)

    # The factory's cohort starts in two weeks: starting it now is confirmed.
    cohort = cohort_transition(cohort=matching_cohort, to_status="active", confirm_early_start=True)

    assert cohort.status == Cohort.Status.ACTIVE


@pytest.fixture
def peer_cohort(program, cohort, make_person) -> list[Enrolment]:
    """`cohort` as a matching cohort of a peer program, with five peers."""
    program.kind = Program.Kind.PEER
    program.save()
    cohort.status = Cohort.Status.MATCHING
    cohort.save()
    return [
        make_person(role="peer", name=f"{name} Peer")
        for name in ("Ana", "Ben", "Cai", "Dev", "Eve")
    ]


def peer_run(cohort: Cohort, *pairs: tuple[Enrolment, Enrolment]) -> MatchRun:
    """A finished peer run, made by hand, with these pairs accepted."""
    run = MatchRun.objects.create(
        cohort=cohort, status=MatchRun.Status.SUCCEEDED, parameters={"mode": "peer"}
    )
    for a, b in pairs:
        Proposal.objects.create(
            run=run, mentor=a, mentee=b, score=0.8, decision=Proposal.Decision.ACCEPTED
        )
    return run


def test_it_publishes_a_peer_run_with_everyone_a_peer(
    cohort, peer_cohort, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    ana, ben, cai, dev, _ = peer_cohort
    run = peer_run(cohort, (ana, ben), (cai, dev))

    with django_capture_on_commit_callbacks(execute=True):
        publish(run, coordinator)

    assert {frozenset(members_of(r)) for r in published(run)} == {
        frozenset({(ana.pk, "peer"), (ben.pk, "peer")}),
        frozenset({(cai.pk, "peer"), (dev.pk, "peer")}),
    }
    [to_ana] = to(ana)
    assert "Your peer partner in" in to_ana.body
    assert "Ben Peer (peer)" in to_ana.body
    assert len(mailoutbox) == 4


def test_it_skips_a_peer_pair_when_either_peer_already_has_a_partner(
    cohort, peer_cohort, coordinator
):
    ana, ben, cai, *_ = peer_cohort
    publish(peer_run(cohort, (ana, ben)), coordinator)

    second = peer_run(cohort, (ana, cai))
    publish(second, coordinator)

    assert [(s.mentor, s.mentee) for s in skipped(second)] == [(ana, cai)]
    assert RelationshipMember.objects.filter(enrolment=ana).count() == 1


def test_it_publishes_one_circle_per_circle_number(
    matching_cohort, matching_people, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    p = matching_people
    run = MatchRun.objects.create(
        cohort=matching_cohort, status=MatchRun.Status.SUCCEEDED, parameters={"mode": "circle"}
    )
    for number, mentor, mentee in ((1, p.maya, p.mo), (1, p.maya, p.eli), (2, p.theo, p.dana)):
        Proposal.objects.create(
            run=run,
            mentor=mentor,
            mentee=mentee,
            circle_number=number,
            score=0.6,
            decision=Proposal.Decision.ACCEPTED,
        )

    with django_capture_on_commit_callbacks(execute=True):
        job = publish(run, coordinator)

    assert job.summary == "Published 2 circles. Everyone in them is emailed."
    assert [r.kind for r in published(run)] == ["circle", "circle"]
    assert {frozenset(members_of(r)) for r in published(run)} == {
        frozenset({(p.maya.pk, "mentor"), (p.mo.pk, "mentee"), (p.eli.pk, "mentee")}),
        frozenset({(p.theo.pk, "mentor"), (p.dana.pk, "mentee")}),
    }
    [to_mo] = to(p.mo)
    assert to_mo.subject == "Your mentoring circle in Leadership Mentoring"
    assert "Maya Mentor (mentor)" in to_mo.body
    assert "Eli Mentee (mentee)" in to_mo.body
    assert len(to(p.maya)) == 1
    assert len(mailoutbox) == 5


# --- Self-service: mentees ask mentors ----------------------------------------------------------


@pytest.fixture
def self_service(program, matching_cohort, matching_people):
    """Mentees of `program` may choose their mentor; mentors have five days to answer."""
    program.mentees_may_request = True
    program.save()
    MatchingConfig.objects.create(program=program, request_response_days=5)
    return matching_people


def requests_of(mentee: Enrolment) -> list[tuple[int, str]]:
    return list(
        MentorRequest.objects.filter(mentee=mentee)
        .order_by("rank")
        .values_list("mentor_id", "status")
    )


def test_it_refuses_requests_when_the_program_does_not_allow_them(matching_cohort, matching_people):
    p = matching_people

    assert refusal(services.mentor_request_create, mentee=p.mo, mentors=[p.maya]) == [
        services.SELF_SERVICE_OFF
    ]
    assert not MentorRequest.objects.exists()


@pytest.mark.parametrize("status", [Cohort.Status.ENROLLING, Cohort.Status.CLOSING])
def test_it_refuses_requests_unless_the_cohort_is_matching_or_active(
    matching_cohort, self_service, status
):
    Cohort.objects.filter(pk=matching_cohort.pk).update(status=status)
    p = self_service

    assert refusal(services.mentor_request_create, mentee=p.mo, mentors=[p.maya]) == [
        services.SELF_SERVICE_CLOSED
    ]


def test_it_refuses_requests_from_a_mentee_who_has_a_mentor(matching_cohort, self_service):
    p = self_service
    services.relationship_create(cohort=matching_cohort, mentor=p.theo, mentee=p.mo)

    assert refusal(services.mentor_request_create, mentee=p.mo, mentors=[p.maya]) == [
        services.ALREADY_MATCHED
    ]


def test_it_refuses_new_requests_while_others_are_open(self_service):
    p = self_service
    services.mentor_request_create(mentee=p.mo, mentors=[p.maya])

    assert refusal(services.mentor_request_create, mentee=p.mo, mentors=[p.theo]) == [
        services.REQUESTS_OPEN
    ]
    assert requests_of(p.mo) == [(p.maya.pk, "pending")]


@pytest.mark.parametrize("count", [0, 4])
def test_it_takes_one_to_three_mentors(self_service, nia, make_mentor, count):
    p = self_service
    mentors = [p.maya, p.theo, nia, make_mentor()][:count]

    assert refusal(services.mentor_request_create, mentee=p.mo, mentors=mentors) == [
        services.CHOOSE_ONE_TO_THREE
    ]
    assert not MentorRequest.objects.exists()


def test_it_refuses_a_mentor_who_breaks_a_rule(self_service, make_mentor):
    p = self_service
    boss = make_mentor(name="Bo Boss")
    profile = p.mo.user.profile
    profile.manager = boss.user
    profile.save()

    [message] = refusal(services.mentor_request_create, mentee=p.mo, mentors=[p.maya, boss])

    assert "same reporting chain" in message
    assert not MentorRequest.objects.exists()


def test_it_sends_the_first_choice_and_queues_the_others(
    self_service, nia, mailoutbox, django_capture_on_commit_callbacks
):
    p = self_service

    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.mentor_request_create(
            mentee=p.mo, mentors=[p.maya, p.theo, nia], note="  I present to the board soon. "
        )

    assert requests_of(p.mo) == [
        (p.maya.pk, "pending"),
        (p.theo.pk, "queued"),
        (nia.pk, "queued"),
    ]
    first = MentorRequest.objects.get(mentee=p.mo, mentor=p.maya)
    assert first.sent_at == NOW
    assert first.respond_by == NOW + dt.timedelta(days=5)
    assert first.note == "I present to the board soon."
    [email] = mailoutbox
    assert email.to == [p.maya.user.email]
    assert email.subject == "Mo Mentee would like you as their mentor"
    assert '"I present to the board soon."' in email.body
    assert "by 6 December 2026" in email.body


def test_it_starts_the_relationship_when_the_mentor_accepts(
    matching_cohort, self_service, nia, mentor, mailoutbox, django_capture_on_commit_callbacks
):
    p = self_service
    services.mentor_request_create(mentee=p.mo, mentors=[p.maya, p.theo, nia])
    request = MentorRequest.objects.get(mentee=p.mo, mentor=p.maya)

    with django_capture_on_commit_callbacks(execute=True):
        relationship = services.mentor_request_accept(request=request, by_user=mentor)

    assert members_of(relationship) == {(p.maya.pk, "mentor"), (p.mo.pk, "mentee")}
    assert relationship.cohort == matching_cohort
    assert relationship.status == Relationship.Status.ACTIVE
    request.refresh_from_db()
    assert (request.status, request.relationship) == ("accepted", relationship)
    assert requests_of(p.mo) == [
        (p.maya.pk, "accepted"),
        (p.theo.pk, "withdrawn"),
        (nia.pk, "withdrawn"),
    ]
    [email] = mailoutbox
    assert email.to == [p.mo.user.email]
    assert email.subject == "Maya Mentor accepted: you have a mentor"


def test_it_lets_only_the_mentor_asked_answer(self_service, mentee):
    p = self_service
    services.mentor_request_create(mentee=p.mo, mentors=[p.maya])
    request = MentorRequest.objects.get(mentee=p.mo)

    for someone in (p.theo.user, mentee):
        assert refusal(services.mentor_request_accept, request=request, by_user=someone) == [
            services.NOT_YOUR_REQUEST
        ]
    request.refresh_from_db()
    assert request.status == MentorRequest.Status.PENDING
    assert not Relationship.objects.exists()


def test_it_refuses_an_acceptance_when_the_mentor_is_full(matching_cohort, self_service):
    p = self_service
    services.mentor_request_create(mentee=p.mo, mentors=[p.theo])
    request = MentorRequest.objects.get(mentee=p.mo)
    services.relationship_create(cohort=matching_cohort, mentor=p.theo, mentee=p.dana)

    assert refusal(services.mentor_request_accept, request=request, by_user=p.theo.user) == [
        "Theo Mentor has no place left."
    ]
    assert selectors.active_relationship_of(enrolment=p.mo) is None


def test_it_needs_a_reason_to_decline_and_then_asks_the_next_choice(
    self_service, mentor, mailoutbox, django_capture_on_commit_callbacks
):
    p = self_service
    services.mentor_request_create(mentee=p.mo, mentors=[p.maya, p.theo])
    request = MentorRequest.objects.get(mentee=p.mo, mentor=p.maya)

    with pytest.raises(ValidationError) as error:
        services.mentor_request_decline(request=request, by_user=mentor, reason="   ")
    assert error.value.message_dict == {"reason": [services.DECLINE_NEEDS_REASON]}
    assert requests_of(p.mo) == [(p.maya.pk, "pending"), (p.theo.pk, "queued")]

    with django_capture_on_commit_callbacks(execute=True):
        services.mentor_request_decline(request=request, by_user=mentor, reason="On leave in May")

    request.refresh_from_db()
    assert request.decline_reason == "On leave in May"
    assert requests_of(p.mo) == [(p.maya.pk, "declined"), (p.theo.pk, "pending")]
    assert [m.subject for m in to(p.mo)] == ["Maya Mentor can't mentor you this time"]
    assert '"On leave in May"' in to(p.mo)[0].body
    assert [m.subject for m in to(p.theo)] == ["Mo Mentee would like you as their mentor"]
    assert len(mailoutbox) == 2


def test_it_skips_a_queued_choice_whose_mentor_filled_up(
    matching_cohort, self_service, nia, mentor, mailoutbox, django_capture_on_commit_callbacks
):
    p = self_service
    services.mentor_request_create(mentee=p.mo, mentors=[p.maya, p.theo, nia])
    services.relationship_create(cohort=matching_cohort, mentor=p.theo, mentee=p.dana, notify=False)
    request = MentorRequest.objects.get(mentee=p.mo, mentor=p.maya)

    with django_capture_on_commit_callbacks(execute=True):
        services.mentor_request_decline(request=request, by_user=mentor, reason="Too busy")

    assert requests_of(p.mo) == [
        (p.maya.pk, "declined"),
        (p.theo.pk, "withdrawn"),
        (nia.pk, "pending"),
    ]
    skipped = MentorRequest.objects.get(mentee=p.mo, mentor=p.theo)
    assert skipped.decline_reason == "The mentor had no place left."
    assert to(p.theo) == []
    assert [m.subject for m in to(nia)] == ["Mo Mentee would like you as their mentor"]


def test_it_tells_the_mentee_when_no_choice_is_left(
    self_service, mentor, mailoutbox, django_capture_on_commit_callbacks
):
    p = self_service
    services.mentor_request_create(mentee=p.mo, mentors=[p.maya])
    request = MentorRequest.objects.get(mentee=p.mo)

    with django_capture_on_commit_callbacks(execute=True):
        services.mentor_request_decline(request=request, by_user=mentor, reason="Too busy")

    # One email, not two: the decline itself invites them to choose again.
    assert [m.subject for m in to(p.mo)] == ["Maya Mentor can't mentor you this time"]
    assert f"/me/enrolments/{p.mo.pk}/mentors/" in to(p.mo)[0].body


def test_it_carries_a_question_and_its_answer(
    self_service, mentor, mentee, mailoutbox, django_capture_on_commit_callbacks
):
    p = self_service
    with time_machine.travel(NOW, tick=False):
        services.mentor_request_create(mentee=p.mo, mentors=[p.maya])
    request = MentorRequest.objects.get(mentee=p.mo)

    with django_capture_on_commit_callbacks(execute=True):
        services.mentor_request_ask(
            request=request, by_user=mentor, question=" Which talk do you have in mind? "
        )
    request.refresh_from_db()
    assert (request.status, request.question) == ("question", "Which talk do you have in mind?")
    [question] = to(p.mo)
    assert question.subject == "Maya Mentor has a question before answering"
    assert '"Which talk do you have in mind?"' in question.body

    assert refusal(
        services.mentor_request_answer, request=request, by_user=p.theo.user, answer="x"
    ) == ["Only the mentee who asked can answer."]
    with django_capture_on_commit_callbacks(execute=True):
        services.mentor_request_answer(request=request, by_user=mentee, answer="The Q3 review")

    request.refresh_from_db()
    assert (request.status, request.answer) == ("pending", "The Q3 review")
    assert request.respond_by == NOW + dt.timedelta(days=5)  # the deadline stays
    [answer] = to(p.maya)
    assert answer.subject == "Mo Mentee answered your question"
    assert '"The Q3 review"' in answer.body
    # Answered, the request can be accepted as any other.
    assert services.mentor_request_accept(request=request, by_user=mentor)


def test_it_expires_an_unanswered_request_and_asks_the_next_choice(
    self_service, mailoutbox, django_capture_on_commit_callbacks
):
    p = self_service
    with time_machine.travel(NOW, tick=False):
        services.mentor_request_create(mentee=p.mo, mentors=[p.maya, p.theo])

    with time_machine.travel(NOW + dt.timedelta(days=5) - dt.timedelta(minutes=1), tick=False):
        assert services.mentor_request_expire_due() == 0
    assert requests_of(p.mo) == [(p.maya.pk, "pending"), (p.theo.pk, "queued")]

    later = NOW + dt.timedelta(days=5, minutes=1)
    with (
        time_machine.travel(later, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.mentor_request_expire_due() == 1

    assert requests_of(p.mo) == [(p.maya.pk, "expired"), (p.theo.pk, "pending")]
    assert MentorRequest.objects.get(mentor=p.theo).respond_by == later + dt.timedelta(days=5)
    assert [m.subject for m in to(p.mo)] == ["Your request to Maya Mentor expired"]
    assert [m.subject for m in to(p.theo)] == ["Mo Mentee would like you as their mentor"]


def test_it_withdraws_every_open_request(self_service, nia, mentor):
    p = self_service
    services.mentor_request_create(mentee=p.mo, mentors=[p.maya, p.theo, nia])

    assert services.mentor_request_withdraw(mentee=p.mo) == 3

    assert {status for _, status in requests_of(p.mo)} == {"withdrawn"}
    request = MentorRequest.objects.get(mentee=p.mo, mentor=p.maya)
    assert refusal(services.mentor_request_accept, request=request, by_user=mentor) == [
        services.REQUEST_NOT_OPEN
    ]
    # Withdrawn, the mentee may choose again, the same mentors too.
    services.mentor_request_create(mentee=p.mo, mentors=[p.maya])
    assert requests_of(p.mo) == [
        (p.maya.pk, "pending"),
        (p.theo.pk, "withdrawn"),
        (nia.pk, "withdrawn"),
    ]


# --- Relationships by hand ---------------------------------------------------------------------


def test_it_creates_a_relationship_by_hand_and_tells_both(
    matching_cohort, matching_people, mailoutbox, django_capture_on_commit_callbacks
):
    p = matching_people

    with django_capture_on_commit_callbacks(execute=True):
        relationship = services.relationship_create(
            cohort=matching_cohort, mentor=p.maya, mentee=p.mo
        )

    assert members_of(relationship) == {(p.maya.pk, "mentor"), (p.mo.pk, "mentee")}
    assert relationship.source_run is None
    assert relationship.explanation.startswith(
        "Mentor has expertise in what the mentee wants to develop: public speaking"
    )
    assert sorted(m.to[0] for m in mailoutbox) == sorted([p.maya.user.email, p.mo.user.email])


def test_it_refuses_a_second_mentor_for_a_matched_mentee(matching_cohort, matching_people):
    p = matching_people
    services.relationship_create(cohort=matching_cohort, mentor=p.maya, mentee=p.mo)

    assert refusal(
        services.relationship_create, cohort=matching_cohort, mentor=p.theo, mentee=p.mo
    ) == ["The mentee already has a mentor in this cohort."]
    assert Relationship.objects.count() == 1


def test_it_refuses_a_pair_that_breaks_a_rule(matching_cohort, matching_people, coordinator):
    p = matching_people
    services.match_exclusion_add(
        cohort=matching_cohort, first=p.theo, second=p.mo, reason="Rivals", created_by=coordinator
    )

    assert refusal(
        services.relationship_create, cohort=matching_cohort, mentor=p.theo, mentee=p.mo
    ) == ["Theo Mentor cannot mentor Mo Mentee: you excluded this pair."]
    assert not Relationship.objects.exists()


def test_it_refuses_a_pair_with_a_mentor_who_is_full(matching_cohort, matching_people):
    p = matching_people
    services.relationship_create(cohort=matching_cohort, mentor=p.theo, mentee=p.dana)

    assert refusal(
        services.relationship_create, cohort=matching_cohort, mentor=p.theo, mentee=p.mo
    ) == ["Theo Mentor has no place left."]


def test_it_ends_a_relationship_early_with_a_reason_and_tells_both(
    matching_cohort, matching_people, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    p = matching_people
    relationship = services.relationship_create(
        cohort=matching_cohort, mentor=p.maya, mentee=p.mo, notify=False
    )

    with pytest.raises(ValidationError) as error:
        services.relationship_end_early(relationship=relationship, reason=" ", ended_by=coordinator)
    assert error.value.message_dict == {"reason": [services.END_NEEDS_REASON]}

    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.relationship_end_early(
            relationship=relationship, reason=" Maya changed jobs ", ended_by=coordinator
        )

    relationship.refresh_from_db()
    assert relationship.status == Relationship.Status.ENDED
    assert relationship.outcome == Relationship.Outcome.ENDED_EARLY
    assert relationship.end_reason == "Maya changed jobs"
    assert relationship.ended_at == NOW
    assert sorted(m.to[0] for m in mailoutbox) == sorted([p.maya.user.email, p.mo.user.email])
    assert all(
        m.subject == "Your mentoring relationship in Leadership Mentoring has ended"
        and "Corinne Coordinator ended" in m.body
        and '"Maya changed jobs"' in m.body
        for m in mailoutbox
    )
    assert refusal(
        services.relationship_end_early,
        relationship=relationship,
        reason="Again",
        ended_by=coordinator,
    ) == [services.RELATIONSHIP_ALREADY_ENDED]


def test_it_records_which_relationship_a_rematch_replaces(
    matching_cohort, matching_people, coordinator, nia
):
    p = matching_people
    old = services.relationship_create(cohort=matching_cohort, mentor=p.maya, mentee=p.mo)
    services.relationship_end_early(relationship=old, reason="Moved away", ended_by=coordinator)

    new = services.relationship_create(
        cohort=matching_cohort, mentor=nia, mentee=p.mo, replaces=old
    )

    assert new.replaces == old
    assert list(old.replaced_by.all()) == [new]
    assert selectors.active_relationship_of(enrolment=p.mo) == new


def test_it_moves_other_waiting_mentees_on_when_a_mentor_fills_up(
    self_service, mentor, mailoutbox, django_capture_on_commit_callbacks
):
    """Two mentees wait on Maya's two places, then her coordinator cuts her to one place:
    once she accepts one, the other is told at once and their next choice is asked, rather
    than waiting for expiry."""
    p = self_service
    services.mentor_request_create(mentee=p.mo, mentors=[p.maya])
    services.mentor_request_create(mentee=p.dana, mentors=[p.maya, p.theo])
    assert requests_of(p.dana) == [(p.maya.pk, "pending"), (p.theo.pk, "queued")]
    Enrolment.objects.filter(pk=p.maya.pk).update(capacity=1)
    first = MentorRequest.objects.get(mentee=p.mo)

    with django_capture_on_commit_callbacks(execute=True):
        services.mentor_request_accept(request=first, by_user=mentor)

    released = MentorRequest.objects.get(mentee=p.dana, mentor=p.maya)
    assert released.status == MentorRequest.Status.WITHDRAWN
    assert released.decline_reason == "The mentor had no place left."
    assert MentorRequest.objects.get(mentee=p.dana, mentor=p.theo).status == (
        MentorRequest.Status.PENDING
    )


def test_it_never_asks_a_mentor_whose_places_are_all_held_by_waiting_requests(
    self_service, mailoutbox, django_capture_on_commit_callbacks
):
    """A waiting request holds its mentor's place: Maya's one place is Mo's to answer, so
    Dana's request to her is skipped and Dana's next choice is asked at once."""
    p = self_service
    Enrolment.objects.filter(pk=p.maya.pk).update(capacity=1)
    services.mentor_request_create(mentee=p.mo, mentors=[p.maya])

    with django_capture_on_commit_callbacks(execute=True):
        services.mentor_request_create(mentee=p.dana, mentors=[p.maya, p.theo])

    assert requests_of(p.dana) == [(p.maya.pk, "withdrawn"), (p.theo.pk, "pending")]
    assert MentorRequest.objects.get(mentee=p.dana, mentor=p.maya).decline_reason == (
        "The mentor had no place left."
    )
    assert [m.to for m in mailoutbox] == [[p.theo.user.email]]


def test_it_withdraws_open_requests_once_the_coordinator_matches_the_mentee(self_service, mentor):
    p = self_service
    services.mentor_request_create(mentee=p.mo, mentors=[p.maya, p.theo])

    services.relationship_create(cohort=p.mo.cohort, mentor=p.theo, mentee=p.mo)

    assert set(MentorRequest.objects.filter(mentee=p.mo).values_list("status", flat=True)) == {
        MentorRequest.Status.WITHDRAWN
    }


def test_it_matches_only_what_is_still_open_in_a_second_run(
    matching_cohort, matching_people, coordinator
):
    """After Mo is matched with Maya (who has two places), a new run leaves Mo out and offers
    Maya one place, not two."""
    p = matching_people
    services.relationship_create(cohort=matching_cohort, mentor=p.maya, mentee=p.mo)

    run = finished_run(matching_cohort, coordinator)

    assert p.mo.pk not in {mentee for _, mentee in pairs_of(run)}
    assert sum(1 for mentor, _ in pairs_of(run) if mentor == p.maya.pk) <= 1
    people, _ = selectors.run_people(cohort=matching_cohort)
    assert {person.id: person.capacity for person in people if person.role == "mentor"}[
        p.maya.pk
    ] == 1
