"""CSV files as operators have them: the import finds the address column in each dialect."""

import pytest

from chalicelib.core.errors import Invalid
from chalicelib.unsubscribe.imports import read_csv


@pytest.mark.parametrize(
    ("text", "delimiter", "column"),
    [
        ("email,name\na@example.com,A\n\nb@example.com,B\n", ",", "email"),
        ("\ufeffName;E-mail Address\nA;a@example.com\n\nB;b@example.com\n", ";", "E-mail Address"),
        ("Name\tEmail Address\r\nA\ta@example.com\r\n\r\nB\tb@example.com\r\n", "\t", "Email Address"),
        ('"First, Last",Email\n"A, a",a@example.com\n\n"B, b",b@example.com\n', ",", "Email"),
        ("  EMAIL  \na@example.com\n\nb@example.com\n", ",", "EMAIL"),
    ],
)
def test_the_address_column_is_found_in_each_dialect(text, delimiter, column):
    rows = read_csv(text)
    assert (rows.delimiter, rows.column) == (delimiter, column)
    assert rows.rows == [(2, "a@example.com"), (4, "b@example.com")]  # lines as the file numbers them


def test_a_named_column_wins_and_its_header_is_matched_loosely():
    rows = read_csv("email;Work Mail\nold@example.com;work@example.com\n", column="work mail")
    assert rows.column == "Work Mail" and rows.rows == [(2, "work@example.com")]


@pytest.mark.parametrize(
    ("text", "column", "says"),
    [
        (
            "name,phone\nA,1\n",
            None,
            "no address column (email, E-mail Address, ...); its header row has 'name', 'phone'",
        ),
        ("email\na@example.com\n", "mail", "no column 'mail'"),
        ("", None, "the CSV is empty"),
    ],
)
def test_a_file_without_the_address_column_is_refused_saying_what_it_has(text, column, says):
    with pytest.raises(Invalid) as refused:
        read_csv(text, column)
    assert refused.value.code == "bad_csv" and says in str(refused.value)


def test_the_same_rows_have_the_same_fingerprint_whatever_the_dialect():
    assert read_csv("email\na@example.com\n").fingerprint == read_csv("\ufeffEmail;x\na@example.com;1\n").fingerprint
    assert read_csv("email\na@example.com\n").fingerprint != read_csv("email\nb@example.com\n").fingerprint


def test_a_quote_never_closed_refuses_the_file_naming_its_line_instead_of_swallowing_the_rest():
    from chalicelib.core.errors import Invalid
    from chalicelib.unsubscribe.imports import read_csv

    good = "".join(f"sq{i}@example.com,x\n" for i in range(3000))
    with pytest.raises(Invalid, match="from line 3 on"):
        read_csv('email,name\na@example.com,A\n"Bob ""the"" B,sq@example.com\n' + good)


def test_a_stray_quote_closed_later_cannot_turn_lines_into_one_address():
    from chalicelib.core.errors import Invalid
    from chalicelib.unsubscribe.imports import read_csv

    with pytest.raises(Invalid, match="starting on line 2 runs on to line 4"):
        read_csv('email\n"a@example.com\nb@example.com\nc@example.com"\nd@example.com\n')


def test_a_quoted_field_with_a_line_break_elsewhere_is_fine():
    from chalicelib.unsubscribe.imports import read_csv

    rows = read_csv('email,note\na@example.com,"two\nlines"\nb@example.com,x\n').rows
    assert [address for _, address in rows] == ["a@example.com", "b@example.com"]
