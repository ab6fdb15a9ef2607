"""Participant import, through the services: a coordinator's real file goes in, every person
comes out with an account, a profile and an invited enrolment, or nobody does.

Files are built in each test so the quirk under test sits next to its assertion.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import cast

import openpyxl
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl.worksheet.worksheet import Worksheet

import programs.services.participant_imports as services_module
from accounts.models import Profile, User
from programs import services
from programs.models import (
    Competency,
    CompetencySynonym,
    Enrolment,
    EnrolmentCompetency,
    Invitation,
    ParticipantImport,
)
from tests.factories import (
    TEST_PASSWORD,
    CompetencyFactory,
    EnrolmentFactory,
    ProfileFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MESSY_HEADER = (
    "E-mail Address;Participant Type;Full Name;Dept.;Max mentees;Skills to offer;Wants to develop"
)
# What Excel for a European locale saves: a byte order mark, semicolons, blank lines, odd names.
GOOD_LINES = [
    "ana.alves@example.org;Mentor;Ana Alves;Engineering;3;Public speaking, Delegation;",
    "ben.brook@example.org;mentor;Ben Brook;Finance;;presenting;",
    "",
    "cleo.chen@example.org;Mentee;Cleo Chen;Sales;;;Negotiation, Public speaking",
    "dev.das@example.org;mentee;Dev Das;;;;Presenting",
]
BAD_LINES = [
    "not-an-address;Mentee;Eve Evans;Sales;;;Negotiation",
    "fay.fox@example.org;Mentee;Fay Fox;Sales;4;;Delegation",
]


def messy_csv(lines: list[str]) -> bytes:
    return ("\ufeff" + "\r\n".join([MESSY_HEADER, "", *lines, "", ""])).encode("utf-8")


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "profiles": Profile.objects.count(),
        "enrolments": Enrolment.objects.count(),
        "links": EnrolmentCompetency.objects.count(),
        "competencies": Competency.objects.count(),
    }


@pytest.fixture
def vocabulary() -> Competency:
    """An approved term people also write as "Presenting"."""
    speaking = CompetencyFactory(name="Public speaking")
    CompetencySynonym.objects.create(competency=speaking, name="Presenting")
    return speaking


def upload(cohort, coordinator, content: bytes, filename: str = "people.csv") -> ParticipantImport:
    return services.participant_import_create(
        cohort=cohort, uploaded_by=coordinator, filename=filename, content=content
    )


def imported(cohort, coordinator, content: bytes, filename: str = "people.csv"):
    participant_import = upload(cohort, coordinator, content, filename)
    result = services.participant_import_run(participant_import=participant_import)
    # The run works on its own locked copy of the row; the caller's copy is stale.
    participant_import.refresh_from_db()
    return participant_import, result


def test_it_reads_a_messy_csv_and_guesses_every_column(cohort, coordinator):
    participant_import = upload(cohort, coordinator, messy_csv(GOOD_LINES + BAD_LINES))

    participant_import.refresh_from_db()
    assert participant_import.status == ParticipantImport.Status.PENDING
    assert participant_import.uploaded_by == coordinator
    assert participant_import.headers[0] == "E-mail Address", "the byte order mark is dropped"
    assert len(participant_import.rows) == 6, "blank lines are skipped"
    assert participant_import.rows[0][0] == 3, "lines are numbered as the spreadsheet shows them"
    assert participant_import.mapping == {
        "0": "email",
        "1": "role",
        "2": "display_name",
        "3": "department",
        "4": "capacity",
        "5": "offer",
        "6": "develop",
    }


def test_it_refuses_a_file_it_cannot_read_as_a_whole(cohort, coordinator):
    with pytest.raises(ValidationError, match=re.escape("Upload a .csv or .xlsx file")):
        upload(cohort, coordinator, b"%PDF-1.7", filename="people.pdf")
    assert not ParticipantImport.objects.exists()


def test_it_imports_nobody_while_any_row_has_a_problem(cohort, coordinator, vocabulary):
    participant_import = upload(cohort, coordinator, messy_csv(GOOD_LINES + BAD_LINES))
    preview = services.participant_import_preview(participant_import=participant_import)
    assert [(e.line, e.reasons) for e in preview.errors] == [
        (8, ("email “not-an-address” is not a valid address",)),
        (9, ("mentees do not take a capacity",)),
    ]
    before = counts()

    with pytest.raises(ValidationError) as error:
        services.participant_import_run(participant_import=participant_import)

    assert error.value.messages == [services.IMPORT_HAS_ERRORS]
    assert counts() == before
    participant_import.refresh_from_db()
    assert participant_import.status == ParticipantImport.Status.PENDING
    assert participant_import.imported_at is None


def test_it_imports_everyone_from_the_corrected_file(cohort, coordinator, vocabulary):
    cohort.program.default_mentor_capacity = 2
    cohort.program.save()
    upload(cohort, coordinator, messy_csv(GOOD_LINES + BAD_LINES))
    fixed = [
        "eve.evans@example.org;Mentee;Eve Evans;Sales;;;Negotiation",
        "fay.fox@example.org;Mentee;Fay Fox;Sales;;;Delegation",
    ]

    participant_import, result = imported(cohort, coordinator, messy_csv(GOOD_LINES + fixed))

    assert result == services.ImportResult(created_people=6, enrolled=6, updated=0)
    participant_import.refresh_from_db()
    assert participant_import.status == ParticipantImport.Status.IMPORTED
    assert participant_import.imported_count == 6
    assert participant_import.imported_at is not None
    ana = User.objects.get(email="ana.alves@example.org")
    assert ana.display_name == "Ana Alves"
    assert not ana.has_usable_password(), "people set their own password from an invitation"
    assert ana.profile.department == "Engineering"
    enrolments = {e.user.email: e for e in cohort.enrolments.select_related("user")}
    assert {e.status for e in enrolments.values()} == {Enrolment.Status.INVITED}
    assert enrolments["ana.alves@example.org"].role == Enrolment.Role.MENTOR
    assert enrolments["ana.alves@example.org"].capacity == 3
    assert enrolments["ben.brook@example.org"].capacity == 2, "blank: the program's default"
    assert enrolments["cleo.chen@example.org"].capacity is None

    def terms(email: str, kind: str) -> set[str]:
        links = enrolments[email].competency_links.filter(kind=kind)
        return {link.competency.name for link in links.select_related("competency")}

    assert terms("ana.alves@example.org", "offer") == {"Public speaking", "Delegation"}
    assert terms("ben.brook@example.org", "offer") == {"Public speaking"}, "synonym resolves"
    assert terms("cleo.chen@example.org", "develop") == {"Negotiation", "Public speaking"}
    assert terms("dev.das@example.org", "develop") == {"Public speaking"}
    new_terms = Competency.objects.exclude(pk=vocabulary.pk)
    assert {c.name for c in new_terms} == {"Delegation", "Negotiation"}
    assert {c.status for c in new_terms} == {Competency.Status.SUGGESTED}
    assert {c.suggested_by for c in new_terms} == {coordinator}
    vocabulary.refresh_from_db()
    assert vocabulary.status == Competency.Status.APPROVED


def test_it_imports_a_file_only_once(cohort, coordinator):
    participant_import, _ = imported(cohort, coordinator, messy_csv(GOOD_LINES))
    before = counts()

    with pytest.raises(ValidationError) as error:
        services.participant_import_run(participant_import=participant_import)

    assert error.value.messages == [services.IMPORT_ALREADY_DONE]
    assert counts() == before


def test_it_updates_people_already_in_the_cohort_and_keeps_their_own_profile(
    cohort, coordinator, mentor
):
    # Maya joined on her own and wrote her department herself.
    ProfileFactory(user=mentor, department="People & Culture", job_title="")
    imported(cohort, coordinator, messy_csv(GOOD_LINES))
    second = "\r\n".join(
        [
            "Email,Role,Name,Department,Job title,Capacity,Skills offered",
            "maya.mentor@example.org,mentor,Maya M,Sales,Team lead,4,Coaching",
            "ana.alves@example.org,mentor,Ana Alves,Engineering,,5,Coaching",
        ]
    ).encode()
    enrolments_before = Enrolment.objects.count()

    _, result = imported(cohort, coordinator, second, filename="again.csv")

    assert result == services.ImportResult(created_people=0, enrolled=0, updated=2)
    assert Enrolment.objects.count() == enrolments_before, "nobody is enrolled twice"
    maya = cohort.enrolments.get(user=mentor)
    assert maya.capacity == 4
    assert maya.status == Enrolment.Status.APPROVED, "an import does not undo an approval"
    assert [link.competency.name for link in maya.competency_links.all()] == ["Coaching"]
    profile = Profile.objects.get(user=mentor)
    assert profile.department == "People & Culture", "what the person wrote is kept"
    assert profile.job_title == "Team lead", "an empty field is filled in"
    mentor.refresh_from_db()
    assert mentor.display_name == "Maya Mentor"
    assert cohort.enrolments.get(user__email="ana.alves@example.org").capacity == 5


def test_it_links_a_manager_named_in_the_same_file(cohort, coordinator):
    content = "\n".join(
        [
            "email,role,name,manager email",
            "gus.grey@example.org,mentee,Gus Grey,hana.hill@example.org",
            "hana.hill@example.org,mentor,Hana Hill,",
        ]
    ).encode()

    imported(cohort, coordinator, content)

    gus = Profile.objects.get(user__email="gus.grey@example.org")
    assert gus.manager == User.objects.get(email="hana.hill@example.org")
    assert Profile.objects.get(user__email="hana.hill@example.org").manager is None


def test_it_leaves_an_existing_persons_password_alone(cohort, coordinator):
    ivy = UserFactory(email="ivy.ives@example.org", display_name="Ivy Ives")
    content = b"email,role\nivy.ives@example.org,mentee\njon.jay@example.org,mentee\n"

    _, result = imported(cohort, coordinator, content)

    assert result.created_people == 1
    ivy.refresh_from_db()
    assert ivy.check_password(TEST_PASSWORD)
    assert cohort.enrolments.get(user=ivy).status == Enrolment.Status.INVITED


def test_set_mapping_refuses_two_columns_for_one_field(cohort, coordinator):
    participant_import = upload(cohort, coordinator, messy_csv(GOOD_LINES))

    with pytest.raises(ValidationError, match="Two columns are mapped to “Name”"):
        services.participant_import_set_mapping(
            participant_import=participant_import,
            mapping={0: "email", 1: "role", 2: "display_name", 3: "display_name"},
        )

    participant_import.refresh_from_db()
    assert participant_import.mapping["3"] == "department", "the stored mapping is unchanged"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({0: "email", 1: "password"}, "“password” is not a field"),
        ({0: "email", 9: "role"}, "a column the file does not have"),
    ],
)
def test_set_mapping_refuses_what_the_file_cannot_mean(cohort, coordinator, mapping, message):
    participant_import = upload(cohort, coordinator, messy_csv(GOOD_LINES))

    with pytest.raises(ValidationError, match=message):
        services.participant_import_set_mapping(
            participant_import=participant_import, mapping=mapping
        )


def test_set_mapping_changes_the_preview(cohort, coordinator):
    participant_import = upload(cohort, coordinator, messy_csv(GOOD_LINES))

    services.participant_import_set_mapping(
        participant_import=participant_import,
        mapping={0: "email", 1: "role", 2: "display_name", 3: "", 4: "", 5: "expertise", 6: ""},
    )

    participant_import.refresh_from_db()
    assert participant_import.mapping == {
        "0": "email",
        "1": "role",
        "2": "display_name",
        "5": "expertise",
    }
    preview = services.participant_import_preview(participant_import=participant_import)
    assert preview.ok
    assert preview.rows[0].department == ""
    assert preview.rows[0].expertise == ("Public speaking", "Delegation")


def test_invite_emails_only_people_without_a_password(
    cohort, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(email="ana.alves@example.org", display_name="Ana Alves")
    participant_import, _ = imported(cohort, coordinator, messy_csv(GOOD_LINES))
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        job = services.participant_import_invite(
            participant_import=participant_import, invited_by=coordinator
        )

    assert job is not None
    job.refresh_from_db()  # a worker sent them once the request committed (here in-process)
    invited = {"ben.brook@example.org", "cleo.chen@example.org", "dev.das@example.org"}
    assert (job.status, job.summary, job.details) == ("done", "Invited 3 people.", [])
    assert set(Invitation.objects.values_list("email", flat=True)) == invited
    assert {tuple(message.to) for message in mailoutbox} == {(email,) for email in invited}
    participant_import.refresh_from_db()
    assert participant_import.invited_count == 3
    cleo = Invitation.objects.get(email="cleo.chen@example.org")
    assert cleo.role == Enrolment.Role.MENTEE
    assert cleo.invited_by == coordinator
    message = next(m for m in mailoutbox if m.to == ["cleo.chen@example.org"])
    link = settings.SITE_URL + reverse("programs:invitation_accept", args=[cleo.token])
    assert link.startswith("http")
    assert link in message.body
    assert link in message.alternatives[0][0]


def test_invite_refuses_a_file_not_imported_yet(cohort, coordinator):
    participant_import = upload(cohort, coordinator, messy_csv(GOOD_LINES))

    with pytest.raises(ValidationError, match="Import the file before inviting"):
        services.participant_import_invite(
            participant_import=participant_import, invited_by=coordinator
        )
    assert not Invitation.objects.exists()


def test_it_imports_an_excel_file(cohort, coordinator):
    workbook = openpyxl.Workbook()
    sheet = cast(Worksheet, workbook.active)
    sheet.append(["Work email", "Joining as", "First name", "Surname", "Capacity (mentors only)"])
    sheet.append(["kim.kent@example.org", "Mentor", "Kim", "Kent", 2])
    sheet.append([None, None, None, None, None])
    sheet.append(["lou.lane@example.org", "Mentee", "Lou", "Lane", None])
    buffer = io.BytesIO()
    workbook.save(buffer)

    participant_import, result = imported(
        cohort, coordinator, buffer.getvalue(), filename="People.XLSX"
    )

    assert result.created_people == 2
    kim = cohort.enrolments.get(user__email="kim.kent@example.org")
    assert (kim.user.display_name, kim.role, kim.capacity) == ("Kim Kent", "mentor", 2)
    assert cohort.enrolments.get(user__email="lou.lane@example.org").capacity is None
    assert participant_import.filename == "People.XLSX"


def test_a_failure_half_way_leaves_nothing_imported(cohort, coordinator, monkeypatch):
    participant_import = upload(cohort, coordinator, messy_csv(GOOD_LINES))
    real = services_module._profile_fill_blanks
    calls = []

    def fails_on_the_third(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(services_module, "_profile_fill_blanks", fails_on_the_third)
    before = counts()

    with pytest.raises(RuntimeError):
        services.participant_import_run(participant_import=participant_import)

    assert len(calls) == 3, "it failed with accounts already written"
    assert counts() == before
    participant_import.refresh_from_db()
    assert participant_import.status == ParticipantImport.Status.PENDING


# --- Known bugs: the correct behaviour, failing until services.py is fixed ------------------


def test_a_reimport_keeps_what_the_file_does_not_say(cohort, coordinator):
    """The person said they prefer a partner from another department, wrote their hopes and
    chose what to develop when applying; a file with just email, role and department says
    nothing about any of that, so none of it may be wiped."""
    enrolment = EnrolmentFactory(
        cohort=cohort,
        user=UserFactory(email="nia.noor@example.org"),
        role=Enrolment.Role.MENTEE,
        hopes="A sponsor for my first management role.",
        prefers_other_department=True,
        prefers_same_time_zone=True,
    )
    EnrolmentCompetency.objects.create(
        enrolment=enrolment, competency=CompetencyFactory(name="Negotiation"), kind="develop"
    )

    imported(cohort, coordinator, b"email,role,department\nnia.noor@example.org,mentee,Sales\n")

    enrolment.refresh_from_db()
    assert enrolment.prefers_other_department
    assert enrolment.prefers_same_time_zone
    assert enrolment.hopes == "A sponsor for my first management role."
    assert enrolment.competency_links.count() == 1


def test_a_reimport_with_a_blank_capacity_keeps_the_mentors_capacity(cohort, coordinator, mentor):
    enrolment = cohort.enrolments.get(user=mentor)
    assert enrolment.capacity == 2

    imported(cohort, coordinator, b"email,role,capacity\nmaya.mentor@example.org,mentor,\n")

    enrolment.refresh_from_db()
    assert enrolment.capacity == 2


def test_a_reimport_marks_the_enrolment_updated(cohort, coordinator, mentor):
    enrolment = cohort.enrolments.get(user=mentor)
    long_ago = timezone.now() - dt.timedelta(days=3)
    Enrolment.objects.filter(pk=enrolment.pk).update(updated_at=long_ago)

    imported(cohort, coordinator, b"email,role,capacity\nmaya.mentor@example.org,mentor,5\n")

    enrolment.refresh_from_db()
    assert enrolment.capacity == 5
    assert enrolment.updated_at > long_ago


def test_set_mapping_refuses_a_file_already_imported(cohort, coordinator):
    participant_import, _ = imported(cohort, coordinator, messy_csv(GOOD_LINES))

    with pytest.raises(ValidationError, match=re.escape(services.IMPORT_ALREADY_DONE)):
        services.participant_import_set_mapping(
            participant_import=participant_import, mapping={0: "email"}
        )
