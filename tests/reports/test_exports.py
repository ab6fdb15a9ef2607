"""A cohort's exports: who may download them, what they hold (and never hold), that a
spreadsheet never runs what people typed as a formula, and that they cost the same number of
queries whatever the cohort's size."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from goals.models import Goal, SurveyResponse
from matching.models import Relationship
from programs.models import Cohort, FeedbackQuestion
from tests.factories import (
    AgreementFactory,
    AgreementSignatureFactory,
    CheckInFactory,
    FeedbackQuestionFactory,
    GoalFactory,
    PrivateNoteFactory,
    ProfileFactory,
    PulseFactory,
    ReflectionFactory,
    RelationshipFactory,
    SurveyAnswerFactory,
    SurveyResponseFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TABLES = ("participants", "relationships", "feedback")
FORMATS = ("csv", "xlsx")
PERSONAS_REFUSED = (
    "outsider",
    "mentee",
    "mentor",
    "other_coordinator",
    "program_creator",
    "admin_user",
)

# Unique texts planted where nobody but their author, or the partners, may read them.
NOTE = "zq-export-note-4b1e"
REFLECTION = "zq-export-reflection-9a07"
SHARED_REFLECTION = "zq-export-shared-reflection-6c3d"
LONE_ANSWER = "zq-export-lone-answer-27f0"  # one person's answer: below the threshold
PARTNER_ANSWER = "zq-export-partner-answer-81d5"  # written for the partner
SUMMARY = "zq-export-check-in-summary-5e62"
GOAL_TITLE = "zq-export-goal-title-0d9c"
PULSE_LINE = "zq-export-pulse-line-3f48"
SECRETS = (
    NOTE,
    REFLECTION,
    SHARED_REFLECTION,
    LONE_ANSWER,
    PARTNER_ANSWER,
    SUMMARY,
    GOAL_TITLE,
    PULSE_LINE,
)


def build_cohort(cohort: Cohort, *, pairs: int) -> list[Relationship]:
    """`pairs` active relationships in `cohort`, each with a signed agreement, two check-ins
    (one confirmed), two goals (one done), a pulse and a midpoint survey from its mentee."""
    useful = FeedbackQuestionFactory(
        program=cohort.program, text="How useful are your meetings?", position=1
    )
    relationships = []
    for _ in range(pairs):
        relationship = RelationshipFactory(cohort=cohort)
        mentee = relationship.members.get(role="mentee")
        agreement = AgreementFactory(relationship=relationship)
        AgreementSignatureFactory(agreement=agreement)
        check_in = CheckInFactory(
            relationship=relationship, confirmed_at=timezone.now(), confirmed_by=mentee
        )
        CheckInFactory(relationship=relationship)
        PulseFactory(check_in=check_in, usefulness=4)
        GoalFactory(relationship=relationship, status=Goal.Status.DONE, progress=100)
        GoalFactory(relationship=relationship, status=Goal.Status.ON_TRACK, progress=50)
        SurveyAnswerFactory(
            response=SurveyResponseFactory(relationship=relationship, author=mentee),
            question=useful,
            scale_value=4,
        )
        relationships.append(relationship)
    return relationships


def plant_secrets(relationship: Relationship) -> None:
    """Every kind of text an export must never carry, in one relationship."""
    mentee = relationship.members.get(role="mentee")
    mentor = relationship.members.get(role="mentor")
    PrivateNoteFactory(relationship=relationship, text=NOTE)
    ReflectionFactory(relationship=relationship, text=REFLECTION)
    ReflectionFactory(relationship=relationship, text=SHARED_REFLECTION, shared=True)
    check_in = CheckInFactory(relationship=relationship, summary=SUMMARY)
    PulseFactory(check_in=check_in, line=PULSE_LINE)
    GoalFactory(relationship=relationship, title=GOAL_TITLE)
    program = relationship.cohort.program
    lone = FeedbackQuestionFactory(
        program=program, text="What would you change?", answer_kind="text", position=5
    )
    for_partner = FeedbackQuestionFactory(
        program=program,
        text="What do you thank your partner for?",
        answer_kind="text",
        visible_to=FeedbackQuestion.VisibleTo.PARTNER,
        position=6,
    )
    final = SurveyResponseFactory(
        relationship=relationship, author=mentor, stage=SurveyResponse.Stage.FINAL
    )
    SurveyAnswerFactory(response=final, question=lone, scale_value=None, text_value=LONE_ANSWER)
    SurveyAnswerFactory(
        response=SurveyResponseFactory(
            relationship=relationship, author=mentee, stage=SurveyResponse.Stage.FINAL
        ),
        question=for_partner,
        scale_value=None,
        text_value=PARTNER_ANSWER,
    )


def export_url(cohort: Cohort, table: str, file_format: str) -> str:
    return reverse("reports:cohort_export", args=[cohort.pk, table, file_format])


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(response) -> list[list[str]]:
    text = body_of(response).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_rows(response) -> list[list[object]]:
    workbook = load_workbook(io.BytesIO(body_of(response)), read_only=True)
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


# --- Who may download ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS_REFUSED)
@pytest.mark.parametrize(
    "url_name", ["cohort_exports", "participants.csv", "relationships.xlsx", "feedback.csv"]
)
def test_it_refuses_everyone_but_the_programs_coordinators(
    client, sign_in, cohort, mentor, mentee, other_program, persona, url_name
):
    sign_in(persona)
    if url_name == "cohort_exports":
        url = reverse("reports:cohort_exports", args=[cohort.pk])
    else:
        url = export_url(cohort, *url_name.split("."))

    assert client.get(url).status_code == 404


def test_it_sends_the_anonymous_visitor_to_sign_in(client, cohort):
    for url in (
        reverse("reports:cohort_exports", args=[cohort.pk]),
        export_url(cohort, "participants", "csv"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_it_lists_every_export_for_the_coordinator(client, sign_in, cohort):
    sign_in("coordinator")

    response = client.get(reverse("reports:cohort_exports", args=[cohort.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    for table in TABLES:
        for file_format in FORMATS:
            assert f'href="{export_url(cohort, table, file_format)}"' in html
    assert "never a private note" in html


def test_it_answers_404_for_an_unknown_table_or_format(client, sign_in, cohort):
    sign_in("coordinator")

    assert client.get(export_url(cohort, "salaries", "csv")).status_code == 404
    assert client.get(export_url(cohort, "participants", "pdf")).status_code == 404


# --- What they hold -----------------------------------------------------------------------


def test_it_streams_the_participants_as_csv(client, sign_in, cohort, mentor, mentee):
    ProfileFactory(user=mentee, department="Finance", job_title="Analyst", job_level=2)
    RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)
    sign_in("coordinator")

    response = client.get(export_url(cohort, "participants", "csv"))

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="spring-participants.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0][:4] == ["Name", "Email", "Role", "Status"]
    mo = next(row for row in rows if row[0] == "Mo Mentee")
    assert mo[1:8] == [
        "mo.mentee@example.org",
        "Mentee",
        "Approved",
        "Finance",
        "Analyst",
        "Professional",
        "",
    ]
    assert mo[-2:] == ["1", "1"]  # in one relationship, active


def test_it_exports_each_relationship_with_its_people_check_ins_and_goals(
    client, sign_in, cohort, mentor, mentee
):
    pair = RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee, score=0.8123)
    agreement = AgreementFactory(relationship=pair)
    AgreementSignatureFactory(agreement=agreement)
    mo = pair.members.get(role="mentee")
    CheckInFactory(relationship=pair, confirmed_at=timezone.now(), confirmed_by=mo)
    CheckInFactory(relationship=pair, met_on=timezone.localdate())
    GoalFactory(relationship=pair, status=Goal.Status.DONE, progress=100)
    GoalFactory(relationship=pair, status=Goal.Status.ON_TRACK, progress=40)
    GoalFactory(relationship=pair, status=Goal.Status.DROPPED, progress=0)
    RelationshipFactory(cohort=cohort, ended=True)
    sign_in("coordinator")

    rows = csv_rows(client.get(export_url(cohort, "relationships", "csv")))

    header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert len(rows) == 3
    assert header[0] == "Relationship"
    assert first["Mentors"] == "Maya Mentor"
    assert first["Mentees or peers"] == "Mo Mentee"
    assert first["Match score"] == "0.812"
    assert first["Agreement"] == "Signed by 1 of 2"
    assert (first["Check-ins"], first["Confirmed check-ins"]) == ("2", "1")
    assert first["Last check-in"] == timezone.localdate().isoformat()
    assert (first["Goals"], first["Goals done"], first["Goals dropped"]) == ("3", "1", "1")
    assert first["Goal progress (%)"] == "70"
    ended = dict(zip(header, rows[2], strict=True))
    assert (ended["Status"], ended["Outcome"], ended["Check-ins"]) == ("Ended", "Ended early", "0")


def test_it_gives_feedback_averages_only_from_three_answers(client, sign_in, cohort):
    three = build_cohort(cohort, pairs=3)
    two_only = FeedbackQuestionFactory(program=cohort.program, text="Rare question?", position=9)
    for relationship in three[:2]:
        response = SurveyResponse.objects.get(relationship=relationship)
        SurveyAnswerFactory(response=response, question=two_only, scale_value=1)
    sign_in("coordinator")

    rows = csv_rows(client.get(export_url(cohort, "feedback", "csv")))

    by_question = {row[0]: row for row in rows[1:]}
    assert by_question["How useful are your meetings?"][3:] == ["3", "4.0"]
    assert by_question["Rare question?"][3:] == ["2", "Held back: fewer than 3 answers"]
    pulse = next(row for row in rows if row[0].startswith("How useful was this meeting?"))
    assert pulse[3:] == ["3", "4.0"]


def test_it_writes_the_same_rows_to_excel(client, sign_in, cohort):
    build_cohort(cohort, pairs=2)
    sign_in("coordinator")

    as_csv = csv_rows(client.get(export_url(cohort, "relationships", "csv")))
    response = client.get(export_url(cohort, "relationships", "xlsx"))
    as_xlsx = xlsx_rows(response)

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="spring-relationships.xlsx"' in response["Content-Disposition"]
    assert [[("" if v is None else str(v)) for v in row] for row in as_xlsx] == as_csv


# --- Never a private text -------------------------------------------------------------------


def test_it_never_exports_a_private_or_individual_text(client, sign_in, cohort):
    relationships = build_cohort(cohort, pairs=3)
    plant_secrets(relationships[0])
    mentee_name = relationships[0].members.get(role="mentee").enrolment.user.display_name
    sign_in("coordinator")

    for table in TABLES:
        for file_format in FORMATS:
            content = body_of(client.get(export_url(cohort, table, file_format)))
            if file_format == "xlsx":
                with zipfile.ZipFile(io.BytesIO(content)) as archive:
                    content = b"".join(archive.read(name) for name in archive.namelist())
            text = content.decode("utf-8", errors="replace")
            for secret in SECRETS:
                assert secret not in text, (table, file_format, secret)
            if table != "feedback":  # a real file, with the people in it
                assert mentee_name.split()[0] in text, (table, file_format)


# --- Formulas stay text ---------------------------------------------------------------------

FORMULAS = {
    "display_name": '=HYPERLINK("http://evil.example","Click")',
    "department": "+cmd|' /C calc'!A0",
    "job_title": "-2+3",
    "location": "@SUM(1+1)",
    "question": "=1+1 How was it?",
}


def _formula_world(cohort: Cohort) -> None:
    person = UserFactory(email="formula@example.org", display_name=FORMULAS["display_name"])
    ProfileFactory(
        user=person,
        department=FORMULAS["department"],
        job_title=FORMULAS["job_title"],
        location=FORMULAS["location"],
    )
    relationship = RelationshipFactory(cohort=cohort, mentor=person)
    question = FeedbackQuestionFactory(program=cohort.program, text=FORMULAS["question"])
    for _ in range(3):
        SurveyAnswerFactory(
            response=SurveyResponseFactory(relationship=RelationshipFactory(cohort=cohort)),
            question=question,
        )
    assert relationship.pk


RISKY = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("table", TABLES)
def test_it_keeps_every_formula_like_cell_as_text_in_csv(client, sign_in, cohort, table):
    _formula_world(cohort)
    sign_in("coordinator")

    rows = csv_rows(client.get(export_url(cohort, table, "csv")))

    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(RISKY)]
    escaped = {cell for cell in cells if cell.startswith("'")}
    expected = {
        "participants": {f"'{FORMULAS[k]}" for k in ("display_name", "department", "job_title")}
        | {f"'{FORMULAS['location']}"},
        "relationships": {f"'{FORMULAS['display_name']}"},
        "feedback": {f"'{FORMULAS['question']}"},
    }[table]
    assert expected <= escaped


@pytest.mark.parametrize("table", TABLES)
def test_it_keeps_every_formula_like_cell_as_text_in_excel(client, sign_in, cohort, table):
    _formula_world(cohort)
    sign_in("coordinator")

    content = body_of(client.get(export_url(cohort, table, "xlsx")))
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]

    assert all(cell.data_type != "f" for cell in cells)
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert not [text for text in texts if text.startswith(RISKY)]
    assert any(text.startswith("'") for text in texts)


# --- The same number of queries at any size -------------------------------------------------

# Session, user, the cohort, then the table's own streams: participants 1, relationships 2
# (relationships and their members), feedback 2 (survey answers and pulses).
EXPECTED_QUERIES = {"participants": 4, "relationships": 5, "feedback": 5}


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("pairs", [2, 12])
def test_it_reads_a_fixed_number_of_queries_at_any_size(
    client, sign_in, cohort, django_assert_num_queries, table, file_format, pairs
):
    build_cohort(cohort, pairs=pairs)
    sign_in("coordinator")

    with django_assert_num_queries(EXPECTED_QUERIES[table]):
        response = client.get(export_url(cohort, table, file_format))
        content = body_of(response)  # a stream reads the database as it is consumed

    assert content
    if table == "relationships" and file_format == "csv":
        assert len(content.decode("utf-8").splitlines()) == pairs + 1
