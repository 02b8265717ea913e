"""Public descriptions -> schema: Table Schema, SDV metadata, dictionary CSV, NIST, drafts.

What must hold (issue 19): every import round-trips; whatever the source does
not give is reported as needed ("needs a public domain"), never guessed from
data; missing-value tokens carry over per column; a draft reads the header
line and nothing else.
"""

from __future__ import annotations

import copy
import gzip
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privsynth.errors import DataValidationError, SchemaError
from privsynth.schema_import import (
    DRAFT_FORMAT,
    SCHEMA_FORMAT,
    complete,
    draft,
    draft_from_header,
    export_description,
    fill,
    from_dictionary_csv,
    from_nist_dictionary,
    from_sdv_metadata,
    from_table_schema,
    import_description,
    load_draft,
    needs,
    read_header,
    to_dictionary_csv,
    to_sdv_metadata,
    to_table_schema,
)

DATA = Path(__file__).resolve().parent / "data" / "schema_import"
ACS_DICT = DATA / "nist_acs_data_dictionary.json"
PROFILE = DATA / "tableschema-2.0.profile.json"

#: A schema using every kind and every optional key the formats can carry.
FULL: dict[str, Any] = {
    "format": SCHEMA_FORMAT,
    "version": 1,
    "source": "public",
    "columns": [
        {"name": "id", "kind": "integer", "lower": 1, "upper": 99999},
        {"name": "sex", "kind": "categorical", "categories": ["F", "M"],
         "description": "sex at birth"},
        {"name": "age", "kind": "integer", "nullable": True, "missing_values": ["N"],
         "lower": 0, "upper": 120, "description": "years; N = not asked"},
        {"name": "bmi", "kind": "float", "nullable": True, "lower": 10.0, "upper": 80.5,
         "decimals": 1},
        {"name": "seen", "kind": "datetime", "lower": "2020-01-01", "upper": "2020-12-31",
         "resolution": "D", "format": "%d/%m/%Y"},
        {"name": "stamp", "kind": "datetime", "lower": "2020-01-01T00:00:00",
         "upper": "2020-12-31T23:59:59", "resolution": "min"},
        {"name": "smoker", "kind": "boolean", "nullable": True, "missing_values": ["", "?"]},
    ],
    "constraints": [{"kind": "unique", "column": "id", "method": "sequential"},
                    {"kind": "order", "columns": ["age", "bmi"]}],
}


def _names(found: list[Any]) -> list[str]:
    return [n.column for n in found]


# ------------------------------------------------------------------ Table Schema
def test_table_schema_round_trip_keeps_every_key() -> None:
    ts = to_table_schema(FULL)
    assert from_table_schema(json.loads(json.dumps(ts))) == FULL


def test_table_schema_export_conforms_to_the_official_v2_profile() -> None:
    profile = json.loads(PROFILE.read_text(encoding="utf-8"))
    ts = to_table_schema(FULL)
    jsonschema.validate(ts, profile)
    # the profile is strict enough to catch a wrong type name
    bad = copy.deepcopy(ts)
    bad["fields"][0]["type"] = "int"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, profile)


def test_table_schema_export_of_a_draft_conforms_too() -> None:
    d = import_description(DATA / "nist_acs_data_dictionary.json")
    assert d["format"] == DRAFT_FORMAT
    ts = to_table_schema(d)
    jsonschema.validate(ts, json.loads(PROFILE.read_text(encoding="utf-8")))
    indp = next(f for f in ts["fields"] if f["name"] == "INDP")
    assert "type" not in indp  # kind not declared yet: the standard's "any"
    def strip(cols: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # a todo note is for the steward; Table Schema cannot say "nullability not declared"
        # (no "required" means nullable), so INDP comes back nullable, the safe reading
        return [{k: v for k, v in c.items() if k != "todo"
                 and (k, c["name"]) != ("nullable", "INDP")} for c in cols]

    assert strip(from_table_schema(ts)["columns"]) == strip(d["columns"])


def test_table_schema_maps_standard_fields() -> None:
    ts = {
        "fields": [
            {"name": "n", "type": "integer",
             "constraints": {"exclusiveMinimum": 0, "exclusiveMaximum": 10, "required": True}},
            {"name": "x", "type": "number", "constraints": {"minimum": "0.5", "maximum": 2}},
            {"name": "code", "type": "integer", "constraints": {"enum": [1, 2, 9]}},
            {"name": "fruit", "type": "string",
             "categories": [{"value": "apple", "label": "A"}, {"value": "pear"}]},
            {"name": "yes", "type": "boolean", "trueValues": ["Y"], "falseValues": ["N"]},
            {"name": "ok", "type": "boolean", "trueValues": ["TRUE", "1"]},
            {"name": "day", "type": "date", "constraints": {"minimum": "2021-01-01",
                                                           "maximum": "2021-12-31"}},
            {"name": "month", "type": "yearmonth"},
            {"name": "year", "type": "year", "constraints": {"minimum": 1900,
                                                            "maximum": 2030}},
            {"name": "clock", "type": "time"},
            {"name": "mail", "type": "string", "format": "email"},
            {"name": "what", "title": "Anything"},
        ],
        "missingValues": [{"value": "", "label": "blank"}, {"value": "-"}],
        "primaryKey": "n",
    }
    cols = {c["name"]: c for c in from_table_schema(ts)["columns"]}
    assert cols["n"] == {"name": "n", "kind": "integer", "nullable": False,
                         "missing_values": ["", "-"], "lower": 1, "upper": 9}
    assert (cols["x"]["kind"], cols["x"]["lower"], cols["x"]["upper"]) == ("float", 0.5, 2)
    assert cols["code"]["kind"] == "categorical" and cols["code"]["categories"] == ["1", "2", "9"]
    assert cols["fruit"]["categories"] == ["apple", "pear"]
    assert cols["yes"]["kind"] == "categorical" and cols["yes"]["categories"] == ["Y", "N"]
    assert cols["ok"]["kind"] == "boolean" and cols["ok"]["nullable"] is True
    assert (cols["day"]["kind"], cols["day"]["resolution"]) == ("datetime", "D")
    assert cols["month"]["format"] == "%Y-%m"
    assert (cols["year"]["kind"], cols["year"]["upper"]) == ("integer", 2030)
    for name in ("clock", "mail", "what"):
        assert cols[name]["kind"] is None and cols[name]["todo"]
    assert cols["what"]["description"] == "Anything"
    rules = from_table_schema(ts)["constraints"]
    assert rules == [{"kind": "unique", "column": "n", "method": "sequential"}]


def test_table_schema_field_missing_values_replace_the_schema_level_ones() -> None:
    ts = {"fields": [{"name": "a", "type": "integer", "constraints": {"minimum": 0,
                                                                      "maximum": 9}},
                     {"name": "b", "type": "integer", "missingValues": ["N"],
                      "constraints": {"minimum": 0, "maximum": 9}},
                     {"name": "c", "type": "string", "missingValues": [],
                      "constraints": {"enum": ["NA", "x"]}}],
          "missingValues": ["", "NA"]}
    cols = from_table_schema(ts)["columns"]
    assert [c["missing_values"] for c in cols] == [["", "NA"], ["N"], []]
    assert cols[2]["categories"] == ["NA", "x"]  # NA is a value of c, not missing there
    again = to_table_schema(from_table_schema(ts))
    assert [f.get("missingValues") for f in again["fields"]] == [["", "NA"], ["N"], []]


def test_table_schema_without_domains_lists_them_and_guesses_nothing() -> None:
    ts = {"fields": [{"name": "income", "type": "number"},
                     {"name": "town", "type": "string"},
                     {"name": "age", "type": "integer", "constraints": {"minimum": 0}},
                     {"name": "when", "type": "datetime"},
                     {"name": "flag", "type": "boolean"}]}
    d = from_table_schema(ts)
    assert d["format"] == DRAFT_FORMAT
    found = needs(d)
    assert _names(found) == ["income", "town", "age", "when"]
    assert [n.keys for n in found] == [("lower", "upper"), ("categories",), ("upper",),
                                       ("lower", "upper")]
    assert all("needs a public domain" in str(n) for n in found)
    age = next(c for c in d["columns"] if c["name"] == "age")
    assert age["lower"] == 0 and age["upper"] is None
    with pytest.raises(SchemaError, match=r"income .*town .*age .*when"):
        complete(d)


def test_table_schema_keeps_a_not_dp_mark_through_export() -> None:
    unsafe = {**FULL, "source": "data (not DP)"}
    assert from_table_schema(to_table_schema(unsafe))["source"] == "data (not DP)"


def test_data_package_resources() -> None:
    field = {"name": "b", "type": "boolean"}
    one = {"resources": [{"name": "t", "path": "t.csv", "schema": {"fields": [field]}}]}
    assert from_table_schema(one)["columns"][0]["kind"] == "boolean"
    two = {"resources": [one["resources"][0], {"name": "u", "schema": {"fields": [field]}}]}
    with pytest.raises(SchemaError, match="choose one"):
        from_table_schema(two)
    assert import_description(two, table="u")["columns"][0]["name"] == "b"


def test_data_package_with_the_schema_in_its_own_file(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "t.json").write_text(json.dumps(to_table_schema(FULL)),
                                                 encoding="utf-8")
    package = {"name": "p", "resources": [{"name": "t", "path": "t.csv",
                                           "schema": "schemas/t.json"}]}
    (tmp_path / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    assert import_description(tmp_path / "datapackage.json") == FULL
    with pytest.raises(SchemaError, match="is a URL"):
        import_description({"resources": [{"name": "t", "schema": "https://x/t.json"}]})


@pytest.mark.parametrize("ts, text", [
    ({"fields": []}, "non-empty 'fields'"),
    ({"fields": [{"type": "integer"}]}, "needs a non-empty 'name'"),
    ({"fields": [{"name": "a", "type": "integr"}]}, "unknown Table Schema type 'integr'"),
    ({"fields": [{"name": "a", "type": "string", "constraints": {"enum": []}}]}, "non-empty"),
    ({"fields": [{"name": "a", "type": "string", "constraints": {"enum": ["x", "x"]}}]},
     "duplicated"),
    ({"fields": [{"name": "a", "type": "integer", "constraints": {"minimum": "low"}}]},
     "not a number"),
    ({"fields": [{"name": "a"}, {"name": "a"}]}, "more than once"),
    ({"fields": [{"name": "a"}], "missingValues": [1]}, "strings"),
])
def test_table_schema_mistakes_are_schema_errors(ts: dict[str, Any], text: str) -> None:
    with pytest.raises(SchemaError, match=text):
        from_table_schema(ts)


# ------------------------------------------------------------------ SDV metadata
SDV: dict[str, Any] = {
    "METADATA_SPEC_VERSION": "SINGLE_TABLE_V1",
    "columns": {
        "guest": {"sdtype": "id"},
        "room": {"sdtype": "categorical"},
        "nights": {"sdtype": "numerical", "computer_representation": "Int64"},
        "fee": {"sdtype": "numerical", "computer_representation": "Float"},
        "checkin": {"sdtype": "datetime", "datetime_format": "%d %b %Y"},
        "rewards": {"sdtype": "boolean"},
        "card": {"sdtype": "unknown"},
    },
    "primary_key": "guest",
}


def test_sdv_metadata_round_trips() -> None:
    d = from_sdv_metadata(SDV)
    assert to_sdv_metadata(d) == SDV
    assert to_sdv_metadata(json.loads(json.dumps(d))) == SDV
    again = from_sdv_metadata(to_sdv_metadata(d))
    assert again == d


def test_sdv_metadata_kinds_and_needs() -> None:
    d = from_sdv_metadata(SDV)
    kinds = {c["name"]: c["kind"] for c in d["columns"]}
    assert kinds == {"guest": "id", "room": "categorical", "nights": "integer", "fee": "float",
                     "checkin": "datetime", "rewards": "boolean", "card": None}
    cols = {c["name"]: c for c in d["columns"]}
    assert cols["checkin"]["format"] == "%d %b %Y" and cols["checkin"]["resolution"] == "D"
    assert cols["guest"]["nullable"] is False and cols["room"]["nullable"] is True
    # an SDV id is an id column: never modelled, fresh ids in samples, so no constraint
    assert d["constraints"] == []
    found = {n.column: n for n in needs(d)}
    assert set(found) == {"room", "nights", "fee", "checkin", "card"}
    # a numerical primary key is kept unique by a constraint instead
    numeric_key = {"columns": {"n": {"sdtype": "numerical"}, "b": {"sdtype": "boolean"}},
                   "primary_key": "n"}
    assert from_sdv_metadata(numeric_key)["constraints"] == [
        {"kind": "unique", "column": "n", "method": "sequential"}]
    assert found["room"].keys == ("categories",) and found["room"].dp_fillable
    assert not found["nights"].dp_fillable  # no coarse range yet
    # what SDV cannot hold comes back as holes, never as values
    assert cols["nights"]["lower"] is None and cols["room"]["categories"] is None


def test_sdv_multi_table_metadata_needs_a_table() -> None:
    multi = {"METADATA_SPEC_VERSION": "V1", "tables": {
        "hotels": {"columns": {"city": {"sdtype": "categorical"}}},
        "guests": {"columns": {"ok": {"sdtype": "boolean"}}}}}
    with pytest.raises(SchemaError, match="2 tables"):
        from_sdv_metadata(multi)
    assert from_sdv_metadata(multi, table="guests")["format"] == SCHEMA_FORMAT
    with pytest.raises(SchemaError, match="no table 'rooms'"):
        from_sdv_metadata(multi, table="rooms")


def test_sdv_metadata_mistakes() -> None:
    with pytest.raises(SchemaError, match="no 'sdtype'"):
        from_sdv_metadata({"columns": {"a": {}}})
    with pytest.raises(SchemaError, match="not among its columns"):
        from_sdv_metadata({"columns": {"a": {"sdtype": "id"}}, "primary_key": "b"})
    with pytest.raises(SchemaError, match="unknown SDV metadata version"):
        from_sdv_metadata({"METADATA_SPEC_VERSION": "SINGLE_TABLE_V9", "columns": {}})


# ------------------------------------------------------------------ dictionary CSV
def test_dictionary_csv_round_trips() -> None:
    public = {**FULL, "constraints": []}
    text = to_dictionary_csv(public)
    assert from_dictionary_csv(text) == public


def test_dictionary_csv_round_trips_awkward_categories(tmp_path: Path) -> None:
    schema = {"format": SCHEMA_FORMAT, "version": 1, "source": "public", "constraints": [],
              "columns": [{"name": "c", "kind": "categorical",
                           "categories": ["a|b", " padded ", "[x]", "", "comma, here", "é"]}]}
    path = tmp_path / "dict.csv"
    path.write_text(to_dictionary_csv(schema), encoding="utf-8")
    assert import_description(path) == schema


def test_dictionary_csv_synonyms_and_holes() -> None:
    text = ("Variable,Type,Codes,Min,Max,Label,Missing\n"
            "region,category,North|South,,,Region of residence,\n"
            "income,numeric,,,,Yearly income,N|-\n"
            "age,int,,0,,,\n"
            "visit,date,,2020-01-01,2020-12-31,,\n"
            "note,,,,,free text,\n")
    d = from_dictionary_csv(text)
    cols = {c["name"]: c for c in d["columns"]}
    assert cols["region"]["description"] == "Region of residence"
    assert cols["income"]["missing_values"] == ["N", "-"]
    assert cols["visit"]["resolution"] == "D"
    assert [(n.column, n.what, n.keys) for n in needs(d)] == [
        ("income", "domain", ("lower", "upper")), ("age", "domain", ("upper",)),
        ("note", "kind", ("kind",))]


def test_dictionary_csv_with_semicolons_or_tabs() -> None:
    for sep in (";", "\t"):
        text = sep.join(["name", "kind", "lower", "upper"]) + "\n" + sep.join(
            ["x", "float", "0,5", "2"]) + "\n"
        with pytest.raises(SchemaError, match="not a number"):  # 0,5 is not 0.5: no guessing
            from_dictionary_csv(text)
        col = from_dictionary_csv(text.replace("0,5", "0.5"))["columns"][0]
        assert (col["lower"], col["upper"]) == (0.5, 2.0)


@pytest.mark.parametrize("text, message", [
    ("name,kind,colour\na,boolean,red\n", "unknown column 'colour'"),
    ("name,categories\na,x\n", r"needs the column\(s\) \['kind'\]"),
    ("name,kind\na,text-ish\n", "unknown kind 'text-ish'"),
    ("name,kind,lower\na,integer,ten\n", "not a number"),
    ("name,kind,categories\na,integer,x|y\n", "declare the kind"),
    ("name,kind,nullable\na,boolean,maybe\n", "true or false"),
    ("name,kind\n,boolean\n", "line 2: the name is empty"),
    ("name,kind\na,boolean,extra\n", "more fields than the header"),
    ("name,kind\n", "no rows"),
])
def test_dictionary_csv_mistakes(text: str, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        from_dictionary_csv(text)


def test_dictionary_csv_export_refuses_what_it_cannot_carry() -> None:
    with pytest.raises(SchemaError, match="constraints"):
        to_dictionary_csv(FULL)
    with pytest.raises(SchemaError, match="not public"):
        to_dictionary_csv({**FULL, "constraints": [], "source": "data (not DP)"})


# ------------------------------------------------------------------ NIST / ACS
def test_acs_dictionary_kinds_domains_and_tokens() -> None:
    d = import_description(ACS_DICT)
    cols = {c["name"]: c for c in d["columns"]}
    numeric = {n for n, c in cols.items() if c["kind"] in ("integer", "float")}
    assert numeric == {"AGEP", "NOC", "NPF", "DENSITY", "PINCP", "POVPIP", "WGTP", "PWGTP"}
    assert cols["DENSITY"]["kind"] == "float"
    assert (cols["AGEP"]["lower"], cols["AGEP"]["upper"]) == (0, 99)
    assert (cols["PINCP"]["lower"], cols["PINCP"]["upper"]) == (-9000, 1341000)
    # codes beside a range widen it: "0" = no own children, "501" = above 5x poverty line
    assert cols["NOC"]["lower"] == 0 and cols["POVPIP"]["upper"] == 501
    assert cols["WGTP"]["lower"] == 0 and cols["PWGTP"]["lower"] == 1
    # N: missing in numeric columns, a category elsewhere
    for name in ("NOC", "NPF", "PINCP", "POVPIP"):
        assert cols[name]["missing_values"] == ["N"] and cols[name]["nullable"] is True
    for name in ("MSP", "EDU", "INDP_CAT", "PINCP_DECILE", "DVET", "DREM", "DPHY"):
        assert "N" in cols[name]["categories"] and cols[name]["missing_values"] == []
    assert cols["AGEP"]["missing_values"] == [] and cols["AGEP"]["nullable"] is False
    assert "nullable" not in cols["INDP"]  # the dictionary does not say
    assert cols["SEX"]["categories"] == ["1", "2"]
    assert "2 = Female" in cols["SEX"]["description"]
    # INDP has no values in the dictionary: reported, with the dictionary's own pointers
    assert [(n.column, n.what) for n in needs(d)] == [("INDP", "kind")]
    assert "271 possible codes" in cols["INDP"]["description"]


def test_nist_dictionary_partial_range_is_a_hole() -> None:
    d = from_nist_dictionary({"X": {"description": "x", "values": {"min": 1.5}}})
    assert d["columns"][0]["kind"] == "float"
    assert [n.keys for n in needs(d)] == [("upper",)]


# ------------------------------------------------------------------ format detection
def test_import_description_detects_formats(tmp_path: Path) -> None:
    ts = tmp_path / "ts.json"
    ts.write_text(json.dumps(to_table_schema(FULL)), encoding="utf-8")
    sdv = tmp_path / "meta.json"
    sdv.write_text(json.dumps(SDV), encoding="utf-8")
    own = tmp_path / "own.json"
    own.write_text(json.dumps(FULL), encoding="utf-8")
    assert import_description(ts) == FULL
    assert import_description(own) == FULL
    assert import_description(sdv) == from_sdv_metadata(SDV)
    assert import_description(json.dumps(SDV)) == from_sdv_metadata(SDV)
    with pytest.raises(SchemaError, match="could not recognise"):
        import_description({"hello": 1})
    with pytest.raises(SchemaError, match="not found"):
        import_description(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{\n  'x': 1\n}", encoding="utf-8")
    with pytest.raises(SchemaError, match="line 2"):
        import_description(tmp_path / "bad.json")
    with pytest.raises(SchemaError, match="unknown description format"):
        import_description(sdv, format="yaml")


def test_export_description_formats() -> None:
    assert export_description(FULL, "table-schema") == to_table_schema(FULL)
    assert export_description(FULL, "sdv")["primary_key"] == "id"
    with pytest.raises(SchemaError, match="cannot export to 'xml'"):
        export_description(FULL, "xml")


# ------------------------------------------------------------------ drafts
def test_draft_from_header_reads_the_header_line_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    # the second line is not UTF-8 and has the wrong number of fields: reading it would fail
    path.write_bytes(b"\xef\xbb\xbfage, sex ,\"in,come\"\n\xff\xfe\x00 broken\n")
    d = draft_from_header(path)
    assert [c["name"] for c in d["columns"]] == ["age", "sex", "in,come"]
    assert d["format"] == DRAFT_FORMAT and all(c["kind"] is None for c in d["columns"])
    assert d["instructions"] and all(c["todo"] for c in d["columns"])
    assert all("nullable" not in c for c in d["columns"])  # not declared: nothing read


class _HeaderThenBoom(io.RawIOBase):
    """A binary stream that fails the test if anything past the first line is read."""

    def __init__(self, header: bytes) -> None:
        self.header = header
        self.calls = 0

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> bytes:
        self.calls += 1
        if self.calls > 1:
            raise AssertionError("a data row was read")
        return self.header

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("read() would buffer data rows")


def test_draft_from_a_stream_reads_one_line() -> None:
    stream = _HeaderThenBoom(b"a;b\r\n")
    assert read_header(stream, sep=";") == ("a", "b")
    assert stream.calls == 1


def test_header_of_quoted_names_spanning_lines_and_compressed_files(tmp_path: Path) -> None:
    gz = tmp_path / "t.tsv.gz"
    with gzip.open(gz, "wb") as fh:
        fh.write(b'x\t"two\nlines"\n1\t2\n')
    assert read_header(gz) == ("x", "two\nlines")


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"a,,b\n1,2,3\n", "empty column name"),
    (b"a,b,a\n", r"names column\(s\) \['a'\] more than once"),
    (b"\xff\xfeab\n", "not utf-8 text"),
])
def test_header_mistakes(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(content)
    with pytest.raises(DataValidationError, match=message):
        read_header(path)


def test_header_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="not found"):
        draft_from_header(tmp_path / "nope.csv")


def test_fill_then_complete() -> None:
    d = draft(["age", "region", "flag"])
    assert [n.what for n in needs(d)] == ["kind"] * 3
    d = fill(d, {"age": {"kind": "integer", "coarse": [0, 150]},
                 "region": {"kind": "categorical"}, "flag": {"kind": "boolean"}})
    found = needs(d)
    assert [(n.column, n.keys, n.dp_fillable) for n in found] == [
        ("age", ("lower", "upper"), True), ("region", ("categories",), True)]
    d = fill(d, {"age": {"lower": 0, "upper": 120}, "region": {"categories": ["N", "S"]}})
    assert d["format"] == SCHEMA_FORMAT
    assert "coarse" not in d["columns"][0] and "todo" not in d["columns"][0]
    assert complete(d) == d
    with pytest.raises(SchemaError, match=r"no column\(s\) \['agee'\]"):
        fill(d, {"agee": {"kind": "integer"}})


def test_fill_changing_a_kind_drops_the_old_empty_domain_slots() -> None:
    d = fill(draft(["x"]), {"x": {"kind": "categorical"}})
    d = fill(d, {"x": {"kind": "boolean"}})
    assert d["columns"] == [{"name": "x", "kind": "boolean"}]


def test_complete_names_every_missing_column_in_one_line() -> None:
    d = draft([f"c{i}" for i in range(12)])
    with pytest.raises(SchemaError) as info:
        complete(d)
    text = str(info.value)
    assert "\n" not in text and "c0: needs a kind" in text and "and 4 more" in text


@pytest.mark.parametrize("change, message", [
    ({"columns": [{"name": "a", "kind": "text"}]}, "unknown kind 'text'"),
    ({"columns": [{"name": "a", "kind": None, "catgories": ["x"]}]}, "unknown key"),
    ({"columns": [{"name": "a"}, {"name": "a"}]}, "duplicated column names"),
    ({"columns": []}, "non-empty 'columns'"),
    ({"columns": [{"name": "a", "kind": "categorical", "categories": [1, 2]}]},
     "list of strings"),
    ({"columns": [{"name": "a", "kind": "integer", "lower": "0", "upper": 5}]},
     "must be a number"),
    ({"columns": [{"name": "a", "kind": "categorical", "coarse": [0, 1]}]},
     "'coarse' range is for integer"),
    ({"columns": [{"name": "a", "kind": None}], "source": "guessed"}, "source must be"),
    ({"columns": [{"name": "a", "kind": None}], "version": 2}, "version 2"),
    ({"columns": [{"name": "a", "kind": None}], "colums": []}, "unknown top-level"),
    ({"columns": [{"name": "a", "kind": "integer", "lower": 9, "upper": 1},
                  {"name": "b", "kind": None}]}, "'a': lower bound 9 is greater"),
    ({"columns": [{"name": "a", "kind": "categorical", "categories": ["N", "x"],
                   "missing_values": ["N"]}, {"name": "b", "kind": None}]}, "'N'"),
    ({"columns": [{"name": "a", "kind": None}], "constraints": [{"kind": ["x"]}]},
     "needs a 'kind'"),
])
def test_draft_mistakes(change: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        load_draft({"format": DRAFT_FORMAT, **change})


def test_draft_file_round_trip(tmp_path: Path) -> None:
    d = import_description(ACS_DICT)
    path = tmp_path / "draft.json"
    path.write_text(json.dumps(d, indent=2), encoding="utf-8")
    assert load_draft(path) == d
    assert import_description(path) == d


# ------------------------------------------------------------------ command line


def _one_line_error(err: str, contains: str) -> None:
    assert err.startswith("privsynth: error: ") and err.count("\n") == 1, err
    assert contains in err, err


def test_cli_import_writes_a_draft_and_check_lists_what_is_missing(run: Any,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "acs.json"
    code, text, _ = run("schema", "import", ACS_DICT, "--out", out)
    assert code == 0 and "a DRAFT, 24 columns, 1 to fill" in text and "INDP" in text
    assert import_description(out) == import_description(ACS_DICT)
    code, text, err = run("schema", "check", "--schema", out)
    assert code == 4
    assert "23 complete, 1 to fill" in text and "INDP: needs a kind and a public domain" in text
    assert "gives no values" in text  # the importer's note
    _one_line_error(err, "1 of 24 columns to fill")
    # with the data: the header is compared, no row is read (a draft cannot validate rows)
    data = tmp_path / "acs.csv"
    data.write_bytes((DATA / "nist_acs_excerpt.csv").read_bytes().split(b"\n")[0]
                     + b"\n\xff\xfe not a row\n")
    code, text, _ = run("schema", "check", data, "--schema", out)
    assert code == 4 and "header names the same 24 columns" in text
    assert "estimated" not in text  # INDP has no kind yet: infer_dp could not fill it
    # once INDP has a kind and a coarse range, check says infer_dp can estimate it (alone)
    out.write_text(json.dumps(fill(import_description(out), {"INDP": {
        "kind": "integer", "coarse": [0, 9999]}})), encoding="utf-8")
    code, text, _ = run("schema", "check", "--schema", out)
    assert code == 4 and "INDP (integer): needs a public domain (lower, upper)" in text
    assert "It can be estimated by `privsynth schema infer --dp`" in text
    assert "the others" not in text


def test_cli_import_of_a_complete_description_and_export(run: Any, tmp_path: Path) -> None:
    full = FULL
    ts = tmp_path / "ts.json"
    ts.write_text(json.dumps(to_table_schema(full)), encoding="utf-8")
    out = tmp_path / "schema.json"
    code, text, _ = run("schema", "import", ts, "--out", out)
    assert code == 0 and "a complete schema, 7 columns" in text
    assert json.loads(out.read_text(encoding="utf-8")) == full
    code, text, _ = run("schema", "check", "--schema", out)
    assert code == 0 and "schema: 7 columns" in text
    code, text, _ = run("schema", "export", "--schema", out, "--format", "table-schema")
    assert code == 0 and json.loads(text) == to_table_schema(full)
    code, text, _ = run("schema", "export", "--schema", out, "--format", "sdv")
    assert code == 0 and json.loads(text) == to_sdv_metadata(full)
    csv_out = tmp_path / "dict.csv"
    code, _, err = run("schema", "export", "--schema", out, "--format", "dictionary-csv",
                       "--out", csv_out)
    assert code == 4  # the schema has constraints a CSV cannot hold: refused, nothing written
    _one_line_error(err, "constraints")
    assert not csv_out.exists()


def test_cli_draft_reads_only_the_header(run: Any, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data was read")

    monkeypatch.setattr("privsynth.io.read_table", no_reading)
    data = tmp_path / "people.csv"
    data.write_bytes(b"age,sex,income\n\xff\xfe\x00,,,,,,\n")
    out = tmp_path / "draft.json"
    code, text, _ = run("schema", "draft", data, "--out", out)
    assert code == 0 and "3 columns" in text and "no data row was read" in text
    d = load_draft(out)
    assert d["format"] == DRAFT_FORMAT and [c["name"] for c in d["columns"]] == [
        "age", "sex", "income"]
    before = out.read_bytes()
    code, _, err = run("schema", "draft", data, "--out", out)
    assert code == 2 and out.read_bytes() == before  # a started draft is never overwritten
    _one_line_error(err, "--overwrite")
    code, text, err = run("schema", "check", data, "--schema", out)
    assert code == 4 and "0 complete, 3 to fill" in text and "How to fill them" in text


def test_cli_import_errors(run: Any, tmp_path: Path) -> None:
    code, _, err = run("schema", "import", tmp_path / "none.json", "--out", tmp_path / "s.json")
    assert code == 4
    _one_line_error(err, "description file not found")
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    code, _, err = run("schema", "import", bad, "--out", tmp_path / "s.json")
    assert code == 4
    _one_line_error(err, "could not recognise")
    assert not (tmp_path / "s.json").exists()


# ------------------------------------------------------------------ hostile descriptions
_scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=8), st.sampled_from(["", "N", "[", "|", "1e309", "nan"]))
_value = st.one_of(_scalar, st.lists(_scalar, max_size=3),
                   st.dictionaries(st.text(max_size=6), _scalar, max_size=3))


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    doc = copy.deepcopy(doc)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


_DOCS = [to_table_schema(FULL), SDV, json.loads(ACS_DICT.read_text(encoding="utf-8")),
         FULL, draft(["a", "b"])]


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(data=st.data())
def test_any_damaged_description_is_a_schema_error_or_a_checked_result(data: Any) -> None:
    from privsynth.errors import PrivsynthError
    from privsynth.schema import Schema

    doc = data.draw(st.sampled_from(_DOCS))
    path = data.draw(st.sampled_from(_paths(doc)))
    damaged = _replaced(doc, path, data.draw(_value))
    try:
        result = import_description(damaged)
    except PrivsynthError:
        return
    assert load_draft(result)["format"] == result["format"]  # well formed
    needs(result)
    if result["format"] == SCHEMA_FORMAT:
        try:
            Schema.from_dict(result)
        except PrivsynthError:
            pass


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(text=st.text(alphabet=st.sampled_from(list('namekid,|"\n[]0.5-x ')), max_size=80))
def test_any_dictionary_csv_text_is_a_schema_error_or_a_result(text: str) -> None:
    from privsynth.errors import PrivsynthError

    try:
        result = from_dictionary_csv("name,kind,categories,lower,upper\n" + text + "\n")
    except PrivsynthError:
        return
    load_draft(result)


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(raw=st.binary(max_size=60), encoding=st.sampled_from(["utf-8", "latin-1", "utf-16"]),
       sep=st.sampled_from([None, ";", "\t"]))
def test_any_header_bytes_are_names_or_a_data_error(raw: bytes, encoding: str,
                                                   sep: str | None) -> None:
    try:
        names = read_header(io.BytesIO(raw), encoding=encoding, sep=sep)
    except DataValidationError:
        return
    assert names and all(n and n == n.strip() for n in names) and len(set(names)) == len(names)


# ------------------------------------------------------------------ Schema methods
def test_schema_table_schema_round_trip_of_the_bundled_adult_schema() -> None:
    from privsynth.datasets import adult_schema
    from privsynth.schema import Schema

    schema = adult_schema()
    assert Schema.from_table_schema(schema.to_table_schema()) == schema
    assert Schema.import_(schema.export("dictionary-csv")) == schema
    full = Schema.from_dict(FULL)
    assert full.to_dict() == FULL
    assert Schema.from_table_schema(full.to_table_schema()) == full
    assert full["age"].missing_values == ("N",) and full["sex"].missing_values is None


def test_schema_import_with_fill_and_sdv(tmp_path: Path) -> None:
    from privsynth.schema import Schema

    path = tmp_path / "meta.json"
    path.write_text(json.dumps(SDV), encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        Schema.from_sdv_metadata(path)
    for name in ("room", "nights", "fee", "checkin", "card"):
        assert name in str(info.value)
    assert "guest" not in str(info.value)  # an id column needs nothing
    schema = Schema.from_sdv_metadata(path, fill={
        "room": {"categories": ["single", "double"]},
        "nights": {"lower": 1, "upper": 365}, "fee": {"lower": 0, "upper": 1000},
        "checkin": {"lower": "2020-01-01", "upper": "2030-12-31"},
        "card": {"kind": "categorical", "categories": ["visa", "other"]}})
    assert [c.kind for c in schema] == ["id", "categorical", "integer", "float",
                                        "datetime", "boolean", "categorical"]
    assert schema["checkin"].format == "%d %b %Y" and schema["checkin"].resolution == "D"
    assert schema.constraints == ()
    assert schema.export("sdv") == SDV | {"columns": SDV["columns"] | {
        "card": {"sdtype": "categorical"}}}


def test_schema_loads_a_completed_draft_and_names_what_an_incomplete_one_lacks(
        tmp_path: Path) -> None:
    from privsynth.schema import Schema

    path = tmp_path / "draft.json"
    d = draft(["age", "ok"])
    path.write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(SchemaError, match=r"age: needs a kind.*ok: needs a kind"):
        Schema.from_json(path)
    d = fill(d, {"age": {"kind": "integer", "lower": 0, "upper": 120, "coarse": [0, 200]}})
    d = fill(d, {"ok": {"kind": "categorical", "categories": None}})
    assert d["format"] == DRAFT_FORMAT
    with pytest.raises(SchemaError, match=r"ok \(categorical\): needs a public domain"):
        Schema.from_dict(d)
    d["columns"][1]["categories"] = ["y", "n"]
    path.write_text(json.dumps(d), encoding="utf-8")
    schema = Schema.from_json(path)
    assert schema["age"].upper == 120 and schema["ok"].categories == ("y", "n")
    # a complete but wrong column is the schema's own error, naming it
    d["columns"][0]["lower"] = 500
    with pytest.raises(SchemaError, match=r"'age'.*greater than upper"):
        Schema.from_dict(d)


# ------------------------------------------------------------------ the ACS, end to end
def _acs_schema() -> Any:
    """The ACS dictionary's schema; INDP, for which it gives no values, is left out."""
    from privsynth.schema import Schema

    d = import_description(ACS_DICT)
    d["columns"] = [c for c in d["columns"] if c["name"] != "INDP"]
    return Schema.from_dict(d)


def _check_acs(path: Path) -> None:
    from privsynth.io import read_table
    from privsynth.validation import validate

    schema = _acs_schema()
    raw = read_table(path, missing_values=())  # every field as text, nothing missing yet
    df = validate(raw.drop(columns=["INDP"]), schema)
    numeric = {"AGEP", "PINCP", "PWGTP", "WGTP", "NOC", "NPF", "POVPIP", "DENSITY"}
    assert {c for c in df.columns if df[c].dtype.kind in "iuf"} == numeric
    assert df["DENSITY"].dtype == "float64"
    assert str(df["AGEP"].dtype) == "int64" and str(df["PINCP"].dtype) == "Int64"
    # N is missing where the dictionary makes it not-applicable, a category elsewhere
    n_income = int((raw["PINCP"] == "N").sum())
    assert n_income > 0 and int(df["PINCP"].isna().sum()) == n_income
    assert (df["MSP"] == "N").sum() == (raw["MSP"] == "N").sum() > 0
    assert df["PINCP"].notna().sum() == len(df) - n_income


def test_acs_dictionary_schema_validates_the_acs_excerpt() -> None:
    _check_acs(DATA / "nist_acs_excerpt.csv")


def test_acs_dictionary_schema_validates_national2019(shared_datasets: Path) -> None:
    _check_acs(shared_datasets / "nist_acs" / "national2019.csv")


def test_a_table_wide_token_does_not_undo_the_columns_own() -> None:
    from privsynth.io import read_table
    from privsynth.validation import validate

    raw = read_table(DATA / "nist_acs_excerpt.csv", missing_values=()).drop(columns=["INDP"])
    # "N" given table-wide (as the user did) is ignored where a column lists its own
    df = validate(raw, _acs_schema(), missing_values=("", "N"))
    assert (df["EDU"] == "N").any() and df["PINCP"].isna().any()


def _dp_fill_indp(path: Path, epsilon: float, delta: float) -> None:
    """The issue's worked example: import, declare INDP's kind, let infer_dp fill its codes."""
    from privsynth.accounting import Accountant
    from privsynth.inference import infer_dp
    from privsynth.io import read_table

    d = fill(import_description(ACS_DICT), {"INDP": {"kind": "categorical", "nullable": True,
                                                     "missing_values": ["N"]}})
    assert [(n.column, n.keys, n.dp_fillable) for n in needs(d)] == [
        ("INDP", ("categories",), True)]
    raw = read_table(path, missing_values=())
    acct = Accountant(epsilon=2 * epsilon, delta=2 * delta)
    schema = infer_dp(raw, d, epsilon=epsilon, accountant=acct)
    assert schema.source == "dp"
    assert 0 < acct.spent().epsilon <= epsilon + 1e-9  # only INDP was estimated
    declared = {c["name"]: c for c in complete(fill(d, {"INDP": {"categories": ["x"]}}))[
        "columns"]}
    for col in schema:
        if col.name != "INDP":  # declared domains are kept as they are, and cost nothing
            assert col.to_dict() == declared[col.name], col.name
    assert schema["INDP"].categories
    assert set(schema["INDP"].categories) <= set(raw["INDP"]) - {"N"}


def test_acs_dictionary_then_dp_fills_only_what_it_lacks() -> None:
    # 273 rows: the most common industry code has 12, so a large epsilon for the test
    _dp_fill_indp(DATA / "nist_acs_excerpt.csv", epsilon=8.0, delta=1e-3)


def test_acs_worked_example_on_national2019(shared_datasets: Path) -> None:
    _dp_fill_indp(shared_datasets / "nist_acs" / "national2019.csv", epsilon=0.5, delta=1e-6)
