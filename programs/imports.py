"""Turn a coordinator's participant file (CSV or XLSX) into validated rows.

Pure Python on purpose: no ORM, no settings. A service reads the upload, calls `table_read`,
`mapping_guess` (the coordinator may correct the guess) and `rows_validate`, shows the preview, and
only then stores anything. Keeping the parsing here lets it be tested and benchmarked on plain data.

Messages are written for the coordinator who made the file: they name the line a spreadsheet shows
and quote the value as they typed it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePath
from zoneinfo import available_timezones

import openpyxl

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024

ROLES = ("mentor", "mentee", "peer")

# Same order and wording as accounts.Profile.JobLevel, which this module may not import.
JOB_LEVEL_LABELS = (
    "Entry level",
    "Professional",
    "Senior professional",
    "Team lead",
    "Manager",
    "Senior manager",
    "Director",
    "Executive",
)

CAPACITY_MAX = 20
LIST_TERM_MAX = 100


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    aliases: tuple[str, ...]
    required: bool = False


def _spec(name: str, label: str, aliases: str, *, required: bool = False) -> FieldSpec:
    return FieldSpec(name, label, tuple(a.strip() for a in aliases.split("|")), required)


# Display order is the order a coordinator reads the mapping screen in: who, what they do, then
# what they bring to the program.
FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        _spec("email", "Email", "email|e-mail|email address|work email|mail", required=True),
        _spec(
            "display_name",
            "Name",
            "name|full name|display name|participant|participant name",
        ),
        _spec("first_name", "First name", "first name|given name|forename"),
        _spec("last_name", "Last name", "last name|surname|family name"),
        _spec(
            "role",
            "Role",
            "role|participant type|type|mentor or mentee|joining as",
            required=True,
        ),
        _spec("department", "Department", "department|dept|team|business unit|division"),
        _spec("job_title", "Job title", "job title|title|position"),
        _spec("job_level", "Job level", "job level|level|grade|band|seniority"),
        _spec(
            "manager_email",
            "Manager's email",
            "manager|manager email|line manager|reports to|manager e-mail|manager's email",
        ),
        _spec("location", "Location", "location|office|city|site"),
        _spec("time_zone", "Time zone", "time zone|timezone|tz"),
        _spec("languages", "Languages", "languages|language|spoken languages"),
        _spec(
            "capacity",
            "Capacity (mentors)",
            "capacity|max mentees|mentee capacity|how many mentees",
        ),
        _spec(
            "develop",
            "Wants to develop",
            "wants to develop|development areas|areas to develop|development goals areas"
            "|growth areas",
        ),
        _spec("seek", "Skills sought", "skills sought|wants to learn|skills wanted|seeking"),
        _spec("offer", "Skills offered", "skills offered|can offer|skills to offer|offers"),
        _spec("expertise", "Expertise", "expertise|areas of expertise|specialities|specialties"),
        _spec(
            "development_goals",
            "Development goals",
            "goals|development goals|what do you want to develop|objectives",
        ),
        _spec("hopes", "Hopes", "hopes|expectations|what do you hope to get out of it"),
        _spec("availability", "Availability", "availability|available|when available"),
        _spec("bio", "Bio", "bio|about|about me|biography"),
    )
}


class ImportFileError(Exception):
    """The whole file cannot be used; the message tells the coordinator what to do about it."""


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]


@dataclass(frozen=True)
class ParticipantRow:
    line: int
    email: str
    display_name: str
    role: str
    department: str = ""
    job_title: str = ""
    job_level: int | None = None
    manager_email: str = ""
    location: str = ""
    time_zone: str = ""
    languages: tuple[str, ...] = ()
    capacity: int | None = None
    develop: tuple[str, ...] = ()
    seek: tuple[str, ...] = ()
    offer: tuple[str, ...] = ()
    expertise: tuple[str, ...] = ()
    development_goals: str = ""
    hopes: str = ""
    availability: str = ""
    bio: str = ""


@dataclass(frozen=True)
class RowError:
    line: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ImportPreview:
    rows: list[ParticipantRow]
    errors: list[RowError]
    missing_required: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.missing_required and bool(self.rows)


# --- Reading -------------------------------------------------------------------------------------

_TEXT_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
_DELIMITERS = ",;\t|"
_SNIFF_CHARS = 8192
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and .doc) files


def table_read(*, filename: str, content: bytes) -> Table:
    """Read an uploaded .csv/.txt/.tsv or .xlsx file into headers and non-blank rows.

    Raises ImportFileError for anything that stops the whole file being read.
    """
    name = PurePath(filename.replace("\\", "/")).name or filename
    suffix = PurePath(name).suffix.lower()
    if suffix == ".xls":
        raise ImportFileError(
            f"“{name}” is in the old Excel format, which we can't read. Save it as an Excel "
            "Workbook (.xlsx) or as CSV. Upload a .csv or .xlsx file."
        )
    if suffix not in _TEXT_SUFFIXES and suffix != ".xlsx":
        raise ImportFileError(
            f"“{name}” is not a spreadsheet we can read. Upload a .csv or .xlsx file."
        )
    if len(content) > MAX_BYTES:
        raise ImportFileError(
            f"“{name}” is {len(content) / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_BYTES // 1024 // 1024} MB. Split it into smaller files."
        )
    if not content.strip():
        raise ImportFileError(f"“{name}” is empty.")
    if suffix == ".xlsx":
        return _xlsx_read(name, content)
    return _csv_read(name, content)


def _csv_read(name: str, content: bytes) -> Table:
    text = _text_decode(name, content)
    delimiter = _delimiter_guess(text)
    try:
        records = list(_csv_records(text, delimiter, strict=True))
    except _CsvProblem as problem:
        if "unexpected end of data" in problem.detail:
            raise ImportFileError(
                f"Line {problem.line} of “{name}” opens a quoted cell that is never closed, so "
                "the rest of the file can't be read. Check the quote marks (\") on that line."
            ) from problem
        _csv_field_limit_check(name, problem)
        # A quote in an odd place (`"Sam" Jones`): read it as spreadsheet apps do rather than
        # refuse the file; the stray quote marks simply disappear.
        try:
            records = list(_csv_records(text, delimiter, strict=False))
        except _CsvProblem as again:
            _csv_field_limit_check(name, again)
            raise ImportFileError(f"Line {again.line} of “{name}” can't be read.") from again
    # The export escapes formula-like CSV cells with an apostrophe (csv_cell); undo that here.
    return _table_build(records, source=f"“{name}”", unescape=True)


def _csv_field_limit_check(name: str, problem: _CsvProblem) -> None:
    if "field larger than field limit" in problem.detail:
        raise ImportFileError(
            f"Line {problem.line} of “{name}” has a cell that is far too long to be a "
            "participant's answer. Check for a missing quote mark (\") above it."
        ) from problem


class _CsvProblem(Exception):
    def __init__(self, line: int, detail: str) -> None:
        super().__init__(f"line {line}: {detail}")
        self.line = line
        self.detail = detail


def _text_decode(name: str, content: bytes) -> str:
    if content.startswith(_ZIP_MAGIC):
        raise ImportFileError(
            f"“{name}” looks like an Excel workbook, not a CSV file. Upload it with its .xlsx "
            "name, or save it as CSV."
        )
    if content.startswith(_OLE_MAGIC):
        raise ImportFileError(
            f"“{name}” looks like an old-format Excel file, not a CSV file. Save it as CSV or as "
            "an Excel Workbook (.xlsx) and upload that."
        )
    try:
        # Excel's "Unicode Text" export is UTF-16 with a byte-order mark.
        if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = content.decode("utf-16")
        else:
            try:
                text = content.decode("utf-8-sig")
            except UnicodeDecodeError:
                # Excel on Windows saves "CSV" (not "CSV UTF-8") in the ANSI code page.
                text = content.decode("cp1252")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"The text in “{name}” can't be read. Save it as “CSV UTF-8” and upload it again."
        ) from error
    if "\x00" in text:
        raise ImportFileError(
            f"“{name}” doesn't look like a text file. Save it as “CSV UTF-8” and upload it again."
        )
    return text


def _delimiter_guess(text: str) -> str:
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        # A half line at the end makes the sniffer think rows have uneven columns.
        sample = sample[: sample.rfind("\n")]
    try:
        sniffed: str | None = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    # The sniffer prefers a comma whenever the comma count is as steady as the real delimiter's,
    # which is exactly what a semicolon file with "Python, SQL" in every row looks like. Header
    # names almost never contain delimiters, so the header line gets the casting vote.
    header = next((line for line in sample.splitlines() if line.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {d: unquoted.count(d) for d in _DELIMITERS}
    best = max(counts.values())
    if best == 0:
        return sniffed or ","
    if sniffed is not None and counts[sniffed] == best:
        return sniffed
    return next(d for d in _DELIMITERS if counts[d] == best)


def _csv_records(text: str, delimiter: str, *, strict: bool) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quotechar='"',
        doublequote=True,
        # `a, "b; c"` is quoted after the space; without this the quotes would be kept literally.
        skipinitialspace=True,
        strict=strict,
    )
    # reader.line_num counts physical lines consumed, so the next record starts one after it.
    # Blank lines are consumed too, which keeps later numbers equal to the editor's line numbers.
    start = 1
    try:
        for record in reader:
            yield start, record
            start = reader.line_num + 1
    except csv.Error as error:
        raise _CsvProblem(start, str(error)) from error


def _xlsx_read(name: str, content: bytes) -> Table:
    unreadable = (
        f"“{name}” can't be opened as an Excel workbook. Open it in Excel and save it again as "
        "an Excel Workbook (.xlsx), or save it as CSV."
    )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # a damaged zip or XML surfaces as many unrelated types
        raise ImportFileError(unreadable) from error
    try:
        if not workbook.worksheets:
            raise ImportFileError(f"“{name}” has no sheets with data.")
        sheet = workbook.worksheets[0]
        # Read-only mode trusts the size the writing app recorded, and some apps record "A1";
        # forgetting it makes openpyxl read every row that is really there.
        sheet.reset_dimensions()
        records = (
            (number, [_cell_text(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
        # Workbook cells are typed text, never escaped: an apostrophe there is the person's own.
        return _table_build(records, source=f"The first sheet of “{name}”", unescape=False)
    except ImportFileError:
        raise
    except Exception as error:  # rows are parsed lazily, so a corrupt sheet fails here
        raise ImportFileError(unreadable) from error
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # 15 significant digits is what Excel displays; 0.1 + 0.2 should read "0.3".
        return f"{value:.15g}"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _table_build(records: Iterable[tuple[int, list[str]]], *, source: str, unescape: bool) -> Table:
    headers: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for line, cells in records:
        values = [cell.strip() for cell in cells]
        if unescape:
            values = [_cell_unescape(value) for value in values]
        if not any(values):
            continue
        if headers is None:
            headers = _trailing_blanks_drop(values)
            continue
        if len(values) < len(headers):
            values.extend([""] * (len(headers) - len(values)))
        elif len(values) > len(headers):
            values = values[: len(headers)] + _trailing_blanks_drop(values[len(headers) :])
        rows.append((line, values))
        if len(rows) > MAX_ROWS:
            raise ImportFileError(
                f"{source} has more than {MAX_ROWS:,} participants. Split it into files of at "
                f"most {MAX_ROWS:,} rows."
            )
    if headers is None:
        raise ImportFileError(f"{source} is empty.")
    if not rows:
        raise ImportFileError(
            f"{source} has a header row but no participants under it. Add one row per person."
        )
    return Table(headers=headers, rows=rows)


# A cell starting with one of these runs as a formula when a spreadsheet opens a CSV file, so
# text people typed (an application answer, say) could run in the coordinator's Excel.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """Make a value safe to write into a CSV a spreadsheet will open: a leading apostrophe
    makes the spreadsheet show it as text. `table_read` removes the apostrophe again, so an
    exported file imports back unchanged; a value that already starts with an apostrophe gets
    one more, or the reader would take its own for the escape ("'=" would come back as "=")."""
    return f"'{value}" if value.startswith((*FORMULA_STARTS, "'")) else value


def _cell_unescape(value: str) -> str:
    if value.startswith("'") and value[1:].startswith((*FORMULA_STARTS, "'")):
        return value[1:]
    return value


def _trailing_blanks_drop(values: list[str]) -> list[str]:
    end = len(values)
    while end and not values[end - 1]:
        end -= 1
    return values[:end]


# --- Mapping -------------------------------------------------------------------------------------


def _key(text: str) -> str:
    """Compare words, not spelling: "E-mail Address", "email_address" and "EmailAddress" agree."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in plain.casefold() if ch.isalnum())


def _aliases_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for spec in FIELDS.values():
        for alias in (spec.name, *spec.aliases):
            key = _key(alias)
            owner = index.setdefault(key, spec.name)
            if owner != spec.name:
                raise RuntimeError(f"alias {alias!r} is claimed by {owner} and {spec.name}")
    return index


_FIELD_BY_ALIAS = _aliases_index()
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]")


def mapping_guess(headers: list[str]) -> dict[int, str]:
    """Column index -> field name for the headers we recognise; the first column wins a field."""
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        # "Capacity (mentors only)" is a capacity column with a hint for whoever fills it in.
        candidates = (_key(header), _key(_BRACKETED.sub(" ", header)))
        field = next((_FIELD_BY_ALIAS[c] for c in candidates if c in _FIELD_BY_ALIAS), None)
        if field is not None and field not in taken:
            mapping[index] = field
            taken.add(field)
    return mapping


# --- Validation ----------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?!\.)(?!.*\.\.)[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}(?<!\.)"
    r"@(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)
_ANGLE_ADDRESS = re.compile(r".*<([^<>]*)>")
_WHOLE_NUMBER = re.compile(r"[+-]?\d+(?:\.0*)?")
_LIST_SPLIT = re.compile(r"[;,\r\n]+")

_ROLE_BY_KEY = {
    **dict.fromkeys(("mentor", "mentors", "coach", "coaches"), "mentor"),
    **dict.fromkeys(("mentee", "mentees", "protege", "proteges"), "mentee"),
    **dict.fromkeys(("peer", "peers", "buddy", "buddies", "peermentor", "peermentors"), "peer"),
}
_JOB_LEVEL_BY_KEY = {_key(label): level for level, label in enumerate(JOB_LEVEL_LABELS, start=1)}
_TEXT_LIMITS = {
    "display_name": ("name", 150),
    "department": ("department", 100),
    "job_title": ("job title", 150),
    "location": ("location", 100),
    "availability": ("availability", 200),
}
_LIST_LABELS = {
    "languages": "languages",
    "develop": "wants to develop",
    "seek": "skills sought",
    "offer": "skills offered",
    "expertise": "expertise",
}


def rows_validate(
    *,
    table: Table,
    mapping: dict[int, str],
    allowed_roles: frozenset[str],
    default_capacity: int | None = None,
) -> ImportPreview:
    """Check every row against the program's rules, collecting every reason a row is refused.

    `mapping` is column index -> field name (as from `mapping_guess`, possibly corrected by the
    coordinator); if two columns name the same field the leftmost is used. When the program offers
    a single role, a missing or blank role means that role. Rows with any reason are left out of
    `rows` and reported in `errors`. Raises ValueError for an unknown field or role name, which is
    a programming error rather than something the coordinator can fix.
    """
    unknown_roles = set(allowed_roles) - set(ROLES)
    if unknown_roles or not allowed_roles:
        raise ValueError(f"allowed_roles must be a non-empty subset of {ROLES}: {allowed_roles}")
    columns: dict[str, int] = {}
    for index, field in sorted(mapping.items()):
        if field not in FIELDS:
            raise ValueError(f"unknown import field {field!r}")
        if index < 0:
            raise ValueError(f"column index {index} for {field!r} is negative")
        columns.setdefault(field, index)

    # A peer program's file needn't say "peer" on every line.
    implied_role = next(iter(allowed_roles)) if len(allowed_roles) == 1 else None
    missing = [
        name
        for name, spec in FIELDS.items()
        if spec.required and name not in columns and not (name == "role" and implied_role)
    ]
    if missing:
        return ImportPreview(rows=[], errors=[], missing_required=missing)

    rows: list[ParticipantRow] = []
    errors: list[RowError] = []
    first_line_by_email: dict[str, int] = {}
    for line, cells in table.rows:
        values = {field: cells[i] if i < len(cells) else "" for field, i in columns.items()}
        email = _email_clean(values.get("email", ""))
        duplicate_of: int | None = None
        if email:
            duplicate_of = first_line_by_email.setdefault(email, line)
            if duplicate_of == line:
                duplicate_of = None
        row, reasons = _row_check(
            line=line,
            values=values,
            email=email,
            allowed_roles=allowed_roles,
            implied_role=implied_role,
            default_capacity=default_capacity,
        )
        if duplicate_of is not None:
            reasons.append(f"the same email also appears on line {duplicate_of}")
        if row is not None and not reasons:
            rows.append(row)
        else:
            errors.append(RowError(line=line, reasons=tuple(reasons)))
    errors.sort(key=lambda error: error.line)
    return ImportPreview(rows=rows, errors=errors, missing_required=[])


def _row_check(
    *,
    line: int,
    values: dict[str, str],
    email: str,
    allowed_roles: frozenset[str],
    implied_role: str | None,
    default_capacity: int | None,
) -> tuple[ParticipantRow | None, list[str]]:
    reasons: list[str] = []

    raw_email = values.get("email", "").strip()
    if not email:
        reasons.append("email is missing")
    elif not _EMAIL.fullmatch(email):
        reasons.append(f"email {_q(raw_email)} is not a valid address")

    role = _role_check(values.get("role", ""), allowed_roles, implied_role, reasons)

    text = {name: _one_line(values.get(name, "")) for name in _TEXT_LIMITS}
    if not text["display_name"]:
        text["display_name"] = _one_line(
            f"{values.get('first_name', '')} {values.get('last_name', '')}"
        )
    if not text["display_name"] and email:
        text["display_name"] = _name_from_email(email)
    for name, (label, limit) in _TEXT_LIMITS.items():
        if len(text[name]) > limit:
            reasons.append(f"{label} is {len(text[name])} characters long (at most {limit})")

    job_level = _job_level_check(values.get("job_level", ""), reasons)
    capacity = _capacity_check(values.get("capacity", ""), role, default_capacity, reasons)
    time_zone = _time_zone_check(values.get("time_zone", ""), reasons)

    raw_manager = values.get("manager_email", "").strip()
    manager_email = _email_clean(raw_manager)
    if manager_email and not _EMAIL.fullmatch(manager_email):
        reasons.append(f"manager email {_q(raw_manager)} is not a valid address")
    elif manager_email and manager_email == email:
        reasons.append("manager email is the participant's own email")

    terms = {
        name: _terms_check(values.get(name, ""), label, reasons)
        for name, label in _LIST_LABELS.items()
    }

    if reasons or role is None:
        return None, reasons
    return (
        ParticipantRow(
            line=line,
            email=email,
            display_name=text["display_name"],
            role=role,
            department=text["department"],
            job_title=text["job_title"],
            job_level=job_level,
            manager_email=manager_email,
            location=text["location"],
            time_zone=time_zone,
            languages=terms["languages"],
            capacity=capacity,
            develop=terms["develop"],
            seek=terms["seek"],
            offer=terms["offer"],
            expertise=terms["expertise"],
            development_goals=_paragraphs(values.get("development_goals", "")),
            hopes=_paragraphs(values.get("hopes", "")),
            availability=text["availability"],
            bio=_paragraphs(values.get("bio", "")),
        ),
        reasons,
    )


def _q(value: str) -> str:
    """Quote what the coordinator typed, shortened so one wild cell can't flood the preview."""
    shown = value if len(value) <= 60 else value[:57] + "…"
    return f"“{shown}”"


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _paragraphs(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _email_clean(value: str) -> str:
    # Addresses pasted from Outlook arrive as "Priya Natarajan <priya@example.com>".
    value = value.strip()
    angle = _ANGLE_ADDRESS.fullmatch(value)
    if angle:
        value = angle.group(1).strip()
    if value[:7].lower() == "mailto:":
        value = value[7:].strip()
    return value.lower()


def _name_from_email(email: str) -> str:
    local = email.split("@", 1)[0].split("+", 1)[0]
    words = [word for word in re.split(r"[._\-]+", local) if word]
    return " ".join(word[:1].upper() + word[1:] for word in words) or local


def _roles_phrase(roles: Iterable[str]) -> str:
    ordered = [role for role in ROLES if role in roles]
    if len(ordered) == 1:
        return f"{ordered[0]} only"
    return ", ".join(ordered[:-1]) + f" or {ordered[-1]}"


def _role_check(
    value: str, allowed_roles: frozenset[str], implied_role: str | None, reasons: list[str]
) -> str | None:
    value = value.strip()
    if not value:
        if implied_role is None:
            reasons.append("role is missing")
        return implied_role
    role = _ROLE_BY_KEY.get(_key(value))
    if role is None:
        reasons.append(f"role {_q(value)} is not mentor, mentee or peer")
        return None
    if role not in allowed_roles:
        means = "" if _key(value) == role else f" means {role}, which"
        reasons.append(
            f"role {_q(value)}{means} is not offered in this program "
            f"({_roles_phrase(allowed_roles)})"
        )
        return None
    return role


def _whole_number(value: str) -> int | None:
    if not _WHOLE_NUMBER.fullmatch(value):
        return None
    return int(value.split(".", 1)[0])


def _job_level_check(value: str, reasons: list[str]) -> int | None:
    value = value.strip()
    if not value:
        return None
    number = _whole_number(value)
    if number is None:
        number = _JOB_LEVEL_BY_KEY.get(_key(value))
        if number is None:
            reasons.append(
                f"job level {_q(value)} is not a number from 1 to 8 or one of: "
                + ", ".join(JOB_LEVEL_LABELS)
            )
        return number
    if not 1 <= number <= len(JOB_LEVEL_LABELS):
        reasons.append(f"job level {_q(value)} is not between 1 and {len(JOB_LEVEL_LABELS)}")
        return None
    return number


def _capacity_check(
    value: str, role: str | None, default_capacity: int | None, reasons: list[str]
) -> int | None:
    value = value.strip()
    if not value:
        return default_capacity if role == "mentor" else None
    if role == "mentee":
        reasons.append("mentees do not take a capacity")
        return None
    number = _whole_number(value)
    if number is None:
        reasons.append(f"capacity {_q(value)} is not a whole number")
        return None
    if not 0 <= number <= CAPACITY_MAX:
        reasons.append(f"capacity {_q(value)} is not between 0 and {CAPACITY_MAX}")
        return None
    return number


@functools.cache
def _time_zones_by_key() -> dict[str, str]:
    # "localtime" is this server's own setting, not a zone name a person could mean.
    return {name.casefold(): name for name in available_timezones() if name != "localtime"}


def _time_zone_check(value: str, reasons: list[str]) -> str:
    value = value.strip()
    if not value:
        return ""
    zone = _time_zones_by_key().get(value.casefold())
    if zone is None:
        reasons.append(
            f"time zone {_q(value)} is not a time zone name such as “Europe/London” or "
            "“America/New_York”"
        )
        return ""
    return zone


def _terms_check(value: str, label: str, reasons: list[str]) -> tuple[str, ...]:
    terms: list[str] = []
    seen: set[str] = set()
    for part in _LIST_SPLIT.split(value):
        term = _one_line(part)
        key = term.casefold()
        if not term or key in seen:
            continue
        seen.add(key)
        if len(term) > LIST_TERM_MAX:
            reasons.append(f"{label}: {_q(term)} is longer than {LIST_TERM_MAX} characters")
            continue
        terms.append(term)
    return tuple(terms)
