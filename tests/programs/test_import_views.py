"""The participant import pages through the HTTP contract: who may open them, what the
coordinator sees at each step, and that the review page costs the same queries for any file."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from accounts.models import User
from programs import services
from programs.imports import FIELDS, MAX_BYTES
from programs.models import BulkJob, Enrolment, Invitation, ParticipantImport

pytestmark = pytest.mark.django_db

PERSONAS = ["coordinator", "other_coordinator", "mentor", "mentee", "outsider", "anonymous"]

GOOD_FILE = b"""Email,Role,Name,Department,Capacity,Skills offered
ana.alves@example.org,mentor,Ana Alves,Engineering,2,Coaching; Delegation
ben.brook@example.org,mentee,Ben Brook,Sales,,
cleo.chen@example.org,mentee,Cleo Chen,Finance,,
"""
# Lines 3 and 5 as a spreadsheet numbers them (the header is line 1).
BAD_FILE = b"""Email,Role,Name,Department,Capacity
ana.alves@example.org,mentor,Ana Alves,Engineering,2
ben.brook@,mentee,Ben Brook,Sales,
cleo.chen@example.org,mentee,Cleo Chen,Finance,
dev.das@example.org,boss,Dev Das,Finance,3
"""


def people_file(count: int) -> bytes:
    lines = ["Email,Role,Name,Department,Job level,Capacity,Skills offered,Wants to develop"]
    for i in range(count):
        if i % 2:
            lines.append(f"mentee{i}@example.org,mentee,Mentee {i},Sales,2,,,Negotiation")
        else:
            lines.append(f"mentor{i}@example.org,mentor,Mentor {i},Finance,5,2,Coaching,")
    return "\n".join(lines).encode()


def make_import(cohort, coordinator, content: bytes = GOOD_FILE) -> ParticipantImport:
    return services.participant_import_create(
        cohort=cohort, uploaded_by=coordinator, filename="people.csv", content=content
    )


def messages_of(response) -> list[str]:
    """The messages waiting for the next page, oldest first."""
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def pending(cohort, coordinator) -> ParticipantImport:
    return make_import(cohort, coordinator)


# --- Who may open what ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("url_name", "method", "on_cohort", "coordinator_status"),
    [
        ("import_upload", "get", True, 200),
        ("import_review", "get", False, 200),
        ("import_run", "post", False, 302),
    ],
)
def test_only_the_programs_coordinators_reach_the_import(
    client, sign_in, pending, other_program, mentor, mentee, persona, url_name, method,
    on_cohort, coordinator_status,
):  # fmt: skip
    sign_in(persona)
    url = reverse(f"programs:{url_name}", args=[pending.cohort_id if on_cohort else pending.pk])

    response = getattr(client, method)(url)

    if persona == "coordinator":
        assert response.status_code == coordinator_status
    elif persona == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    else:
        assert response.status_code == 404
    if persona != "coordinator":
        assert not Enrolment.objects.filter(user__email="ana.alves@example.org").exists()


def test_run_answers_only_post(client, coordinator, pending):
    client.force_login(coordinator)

    response = client.get(reverse("programs:import_run", args=[pending.pk]))

    assert response.status_code == 405
    pending.refresh_from_db()
    assert pending.status == ParticipantImport.Status.PENDING


# --- Step 1: upload -------------------------------------------------------------------------


def test_the_upload_page_explains_what_the_file_may_hold(client, coordinator, cohort):
    client.force_login(coordinator)

    response = client.get(reverse("programs:import_upload", args=[cohort.pk]))

    page = response.content.decode()
    for spec in FIELDS.values():
        assert escape(spec.label) in page
    assert "Only <strong>Email</strong> and <strong>Role</strong> are required" in page
    assert 'accept=".csv,.xlsx,.tsv,.txt"' in page
    assert 'enctype="multipart/form-data"' in page
    assert reverse("programs:enrolment_export", args=[cohort.pk, "csv"]) in page
    assert "only filled in where it is empty" in page
    assert "<title>Import participants into Spring · Mentorship</title>" in page


def test_an_upload_is_read_and_sent_to_the_review(client, coordinator, cohort):
    client.force_login(coordinator)

    response = client.post(
        reverse("programs:import_upload", args=[cohort.pk]),
        {"file": SimpleUploadedFile("people.csv", GOOD_FILE, content_type="text/csv")},
    )

    participant_import = ParticipantImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("programs:import_review", args=[participant_import.pk])
    assert participant_import.cohort == cohort
    assert participant_import.uploaded_by == coordinator
    assert len(participant_import.rows) == 3
    assert messages_of(response) == [
        "Read 3 rows from people.csv. Check the columns and the rows below; nothing is "
        "imported until you say so."
    ]


def test_a_file_of_the_wrong_kind_is_refused_on_the_form(client, coordinator, cohort):
    client.force_login(coordinator)

    response = client.post(
        reverse("programs:import_upload", args=[cohort.pk]),
        {"file": SimpleUploadedFile("people.pdf", b"%PDF-1.7", content_type="application/pdf")},
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "file": ["“people.pdf” is not a spreadsheet we can read. Upload a .csv or .xlsx file."]
    }
    assert 'class="errorlist"' in response.content.decode()
    assert not ParticipantImport.objects.exists()


def test_a_file_too_big_is_refused_before_it_is_read(client, coordinator, cohort):
    client.force_login(coordinator)
    content = b"email,role\n" + b"x" * MAX_BYTES

    response = client.post(
        reverse("programs:import_upload", args=[cohort.pk]),
        {"file": SimpleUploadedFile("huge.csv", content, content_type="text/csv")},
    )

    assert response.status_code == 200
    assert "the limit is 5 MB" in response.context["form"].errors["file"][0]
    assert not ParticipantImport.objects.exists()


def test_the_upload_page_lists_the_cohorts_last_five_files(
    client, coordinator, cohort, other_program
):
    client.force_login(coordinator)
    for number in range(6):
        services.participant_import_create(
            cohort=cohort, uploaded_by=coordinator, filename=f"file{number}.csv", content=GOOD_FILE
        )
    elsewhere = services.participant_import_create(
        cohort=other_program.cohorts.create(
            name="Other", starts_on="2031-01-01", ends_on="2031-06-01"
        ),
        uploaded_by=coordinator,
        filename="elsewhere.csv",
        content=GOOD_FILE,
    )

    response = client.get(reverse("programs:import_upload", args=[cohort.pk]))

    shown = [item.filename for item in response.context["recent_imports"]]
    assert len(shown) == 5
    assert "file0.csv" not in shown
    assert elsewhere.filename not in shown
    assert "Waiting for review" in response.content.decode()


# --- Step 2: check --------------------------------------------------------------------------


def test_the_review_lists_every_bad_row_and_blocks_the_import(client, coordinator, cohort):
    client.force_login(coordinator)
    participant_import = make_import(cohort, coordinator, BAD_FILE)

    response = client.get(reverse("programs:import_review", args=[participant_import.pk]))

    assert response.status_code == 200
    problems = [(p.line, p.who, p.reasons) for p in response.context["problem_rows"]]
    assert problems == [
        (3, "ben.brook@", ("email “ben.brook@” is not a valid address",)),
        (5, "dev.das@example.org", ("role “boss” is not mentor, mentee or peer",)),
    ]
    page = response.content.decode()
    assert "4 rows: 2 ready, 2 with problems" in page
    assert "Fix these rows in your file and upload it again" in page
    assert "Email “ben.brook@” is not a valid address" in page
    assert '<td role="cell" data-label="Line" class="import-problems__line">5</td>' in page
    assert 'disabled aria-describedby="import-blocked">Import 2 people</button>' in page
    assert "data-confirm=" not in page.split('id="problems-title"')[0]


def test_the_review_shows_the_ready_rows_and_a_confirmed_import(
    client, coordinator, cohort, pending
):
    client.force_login(coordinator)

    response = client.get(reverse("programs:import_review", args=[pending.pk]))

    page = response.content.decode()
    assert "3 rows: 3 ready" in page
    assert 'data-confirm="Import 3 people into Spring?"' in page
    assert "Coaching, Delegation" in page
    assert [r.row.email for r in response.context["ready_rows"]] == [
        "ana.alves@example.org",
        "ben.brook@example.org",
        "cleo.chen@example.org",
    ]
    assert "<title>Check people.csv · Mentorship</title>" in page


def test_the_review_asks_for_a_column_for_each_required_field(client, coordinator, cohort):
    client.force_login(coordinator)
    participant_import = make_import(cohort, coordinator, b"Who,What\na@example.org,mentor\n")

    response = client.get(reverse("programs:import_review", args=[participant_import.pk]))

    page = response.content.decode()
    assert "Map a column to Email and Role" in page
    assert "Import 0 people</button>" in page
    assert "disabled" in page.split("Import 0 people</button>")[0].rsplit("<button", 1)[1]


def test_changing_the_mapping_updates_the_preview(client, coordinator, cohort):
    client.force_login(coordinator)
    participant_import = make_import(cohort, coordinator, b"Who,What\na@example.org,mentor\n")
    url = reverse("programs:import_review", args=[participant_import.pk])

    response = client.post(url, {"column_0": "email", "column_1": "role"})

    assert response.status_code == 302
    assert response.url == url
    assert messages_of(response) == ["Columns updated: the rows below are checked again."]
    page = client.get(url).content.decode()
    assert "1 row: 1 ready" in page
    assert 'data-confirm="Import 1 person into Spring?"' in page
    assert '<option value="email" selected>Email</option>' in page


def test_two_columns_for_one_field_are_refused_with_a_message(client, coordinator, cohort, pending):
    client.force_login(coordinator)
    url = reverse("programs:import_review", args=[pending.pk])

    response = client.post(url, {"column_0": "email", "column_1": "role", "column_2": "role"})

    assert response.status_code == 302
    assert messages_of(response) == ["Two columns are mapped to “Role”."]
    pending.refresh_from_db()
    assert pending.mapping["2"] == "display_name"


# --- Step 3: import and invite --------------------------------------------------------------


def test_a_run_imports_everyone_and_shows_them_invited(client, coordinator, cohort, pending):
    client.force_login(coordinator)

    response = client.post(reverse("programs:import_run", args=[pending.pk]))

    people = reverse("programs:enrolment_list", args=[cohort.pk])
    assert response.status_code == 302
    assert response.url == f"{people}?status=invited"
    [message] = messages_of(response)
    assert message.startswith(
        "Imported 3 people: 3 new accounts, 3 added to the cohort, 0 updated."
    )
    assert reverse("programs:import_review", args=[pending.pk]) in message
    assert cohort.enrolments.filter(status=Enrolment.Status.INVITED).count() == 3


def test_a_run_with_bad_rows_imports_nothing(client, coordinator, cohort):
    client.force_login(coordinator)
    participant_import = make_import(cohort, coordinator, BAD_FILE)
    url = reverse("programs:import_review", args=[participant_import.pk])

    response = client.post(reverse("programs:import_run", args=[participant_import.pk]))

    assert response.status_code == 302
    assert response.url == url
    assert messages_of(response) == [services.IMPORT_HAS_ERRORS]
    assert not User.objects.filter(email="ana.alves@example.org").exists()
    assert not cohort.enrolments.exists()


def test_a_file_imports_once(client, coordinator, cohort, pending):
    client.force_login(coordinator)
    url = reverse("programs:import_run", args=[pending.pk])
    client.post(url)

    response = client.post(url, {"action": "import"})

    assert messages_of(response)[-1] == services.IMPORT_ALREADY_DONE
    assert cohort.enrolments.count() == 3


def test_an_imported_file_shows_its_result_and_keeps_its_mapping(
    client, coordinator, cohort, pending
):
    client.force_login(coordinator)
    client.post(reverse("programs:import_run", args=[pending.pk]))
    url = reverse("programs:import_review", args=[pending.pk])

    page = client.get(url).content.decode()
    response = client.post(url, {"column_0": "", "column_1": "role"})

    assert "3 people imported into Spring" in page
    assert "Email invitations to people who have no password yet" in page
    assert "Update preview" not in page
    assert messages_of(response) == [services.IMPORT_ALREADY_DONE]
    pending.refresh_from_db()
    assert pending.mapping["0"] == "email"


def test_invitations_go_to_people_without_a_password(
    client, coordinator, cohort, pending, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    client.post(reverse("programs:import_run", args=[pending.pk]))
    ana = User.objects.get(email="ana.alves@example.org")
    ana.set_password("a-real-password-now")
    ana.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("programs:import_run", args=[pending.pk]), {"action": "invite"}
        )

    # A worker sends them (here in-process, once the request commits); the page follows it.
    job = BulkJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("programs:job_detail", args=[job.pk])
    assert "Invited 2 people." in client.get(response.url).content.decode()
    assert sorted(m.to[0] for m in mailoutbox) == [
        "ben.brook@example.org",
        "cleo.chen@example.org",
    ]
    assert set(Invitation.objects.values_list("invited_by", flat=True)) == {coordinator.pk}
    page = client.get(reverse("programs:import_review", args=[pending.pk])).content.decode()
    assert "Send the invitations again" in page


def test_invitations_wait_for_the_import(client, coordinator, pending):
    client.force_login(coordinator)

    response = client.post(reverse("programs:import_run", args=[pending.pk]), {"action": "invite"})

    assert messages_of(response) == ["Import the file before inviting its people."]
    assert not Invitation.objects.exists()


def test_an_unknown_action_does_nothing(client, coordinator, cohort, pending):
    client.force_login(coordinator)

    response = client.post(reverse("programs:import_run", args=[pending.pk]), {"action": "drop"})

    assert response.status_code == 302
    assert messages_of(response) == ["Choose to import the file or to email invitations."]
    assert not cohort.enrolments.exists()


# --- Cost -----------------------------------------------------------------------------------


def test_the_review_costs_the_same_queries_for_50_or_500_rows(
    client, coordinator, cohort, django_assert_num_queries
):
    client.force_login(coordinator)
    small = make_import(cohort, coordinator, people_file(50))
    large = make_import(cohort, coordinator, people_file(500))
    client.get(reverse("programs:import_review", args=[small.pk]))  # warm per-process caches

    with CaptureQueriesContext(connection) as at_50:
        response = client.get(reverse("programs:import_review", args=[small.pk]))
    assert response.context["preview"].ok
    with django_assert_num_queries(len(at_50)):
        response = client.get(reverse("programs:import_review", args=[large.pk]))
    assert len(response.context["preview"].rows) == 500
    assert response.context["ready_more"] == 480
