"""The 3x5x2 grading in its other schemes, checked code by code against the cross-walk of
exchange.md §3.7 as written out here (with redlane's documented choices), and its parsing."""

from __future__ import annotations

import re
from itertools import product
from pathlib import Path

import pytest

from redlane.exchange.grading import (
    GradingError,
    describe,
    equivalents,
    format_grading,
    grading_table_markdown,
    labels_markdown,
    parse_grading,
)
from redlane.exchange.model import Grading, Handling, Tlp

# 3x5x2 value -> (canonical, 5x5x5, Admiralty, Europol) as the cross-walk reads; where it
# offers two, the choice docs/grading.md states (the one that claims least).
SOURCE = {
    "1": ("S2", "B Mostly reliable", "B Usually reliable", "B Reliable in most instances"),
    "2": ("S5", "E Untested source", "F Reliability cannot be judged", "X Cannot be assessed"),
    "3": ("S4", "D Unreliable", "E Unreliable", "C Unreliable in most instances"),
}
INFORMATION = {
    "A": ("I2", "2", "2 Probably true", "2", 70),
    "B": ("I3", "3", "3 Possibly true", "3", 50),
    "C": ("I4", "4", "6 Truth cannot be judged", "4", 30),
    "D": ("I4", "4", "6 Truth cannot be judged", "4", 30),
    "E": ("I5", "5", "5 Improbable", None, 10),
}
CODES = ["".join(c) for c in product("123", "ABCDE", "PC")]


def _grading(code: str) -> Grading:
    return Grading(
        source=code[0],  # type: ignore[arg-type]
        intelligence=code[1],  # type: ignore[arg-type]
        handling=code[2],  # type: ignore[arg-type]
        conditions="only with the sender's consent" if code[2] == "C" else None,
    )


@pytest.mark.parametrize("code", CODES)
def test_every_code_has_its_views(code: str) -> None:
    s_canon, uk5_s, adm_s, eur_s = SOURCE[code[0]]
    i_canon, uk5_i, adm_i, eur_i, confidence = INFORMATION[code[1]]
    v = equivalents(_grading(code))
    assert v.code == code
    assert (v.canonical_source, v.canonical_information) == (s_canon, i_canon)
    assert str(v.uk_5x5x5.source) == uk5_s
    assert v.uk_5x5x5.intelligence.code == uk5_i
    assert v.uk_5x5x5.handling.code == ("1" if code[2] == "P" else "5")
    assert str(v.admiralty.reliability) == adm_s
    assert str(v.admiralty.credibility) == adm_i
    assert str(v.europol.source) == eur_s
    assert (v.europol.information.code if v.europol.information else None) == eur_i
    expected_h = ["H0"] if code[2] == "P" else ["H3"]
    assert [h.code for h in v.europol.handling] == expected_h
    assert v.stix_confidence == confidence
    assert v.tlp.code == "TLP:AMBER"


def test_labels_are_words() -> None:
    v = equivalents(parse_grading("1AP"))
    assert str(v.uk_3x5x2.source) == "1 Reliable"
    assert str(v.admiralty.reliability) == "B Usually reliable"
    assert str(v.uk_3x5x2.intelligence) == "A Known directly to the source"
    assert v.uk_5x5x5.code == "B21" and v.admiralty.code == "B2" and v.europol.code == "B2 H0"
    assert equivalents(parse_grading("2EP")).europol.code == "X- H0"


@pytest.mark.parametrize(
    ("grading", "handling", "uk5", "europol"),
    [
        ("2BP", Handling(tlp=Tlp.CLEAR), "1", ["H0"]),
        ("2BP", Handling(tlp=Tlp.GREEN), "1", ["H0"]),
        ("2BP", Handling(tlp=Tlp.AMBER_STRICT), "4", ["H2"]),
        ("2BP", Handling(tlp=Tlp.RED), "5", ["H2"]),
        ("2BP", Handling(no_court_use=True), "5", ["H1"]),
        ("2BP", Handling(no_forward=True), "5", ["H2"]),
        ("2BP", Handling(no_export=True), "5", ["H3"]),
        ("2BC: x", Handling(no_court_use=True, no_forward=True), "5", ["H1", "H2", "H3"]),
        ("2BC: x", Handling(tlp=Tlp.AMBER_STRICT), "5", ["H2", "H3"]),
    ],
)
def test_handling_views(grading: str, handling: Handling, uk5: str, europol: list[str]) -> None:
    v = equivalents(parse_grading(grading), handling)
    assert v.uk_5x5x5.handling.code == uk5
    assert [h.code for h in v.europol.handling] == europol
    assert v.tlp.code == f"TLP:{handling.tlp.value.upper()}"


def test_h3_carries_the_conditions_and_no_export() -> None:
    v = equivalents(parse_grading("1AC: not for tax purposes"), Handling(no_export=True))
    (h3,) = v.europol.handling
    assert h3.label == "Other restrictions: not for tax purposes; no export out of redlane"


def test_describe_shows_every_scheme() -> None:
    text = describe(parse_grading("3CC: ask first"), Handling(tlp=Tlp.AMBER_STRICT))
    lines = text.splitlines()
    assert lines[0].startswith("3x5x2 3CC: 3 Not reliable") and "(ask first)" in lines[0]
    assert lines[1].startswith("5x5x5 D45: D Unreliable")
    assert lines[2] == "Admiralty E6: E Unreliable · 6 Truth cannot be judged"
    assert lines[3].startswith("Europol C4 H2 H3:")
    assert lines[4].startswith("TLP:AMBER+STRICT")
    assert lines[5] == "STIX confidence 30"


@pytest.mark.parametrize("code", CODES)
def test_written_form_round_trips(code: str) -> None:
    grading = _grading(code)
    assert parse_grading(format_grading(grading)) == grading


def test_parse_accepts_lower_case_and_colons_in_conditions() -> None:
    g = parse_grading(" 1ac:  court use: ask the sender ")
    assert g.code == "1AC" and g.conditions == "court use: ask the sender"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "three characters"),
        ("2B", "three characters"),
        ("2BPX", "three characters"),
        ("4AP", "source evaluation '4' is not one of 1 (reliable)"),
        ("1FP", "intelligence assessment 'F' is not one of A"),
        ("1AH", "handling code 'H' is not one of P"),
        ("1AC", "handling code C needs its conditions"),
        ("1AC:   ", "handling code C needs its conditions"),
    ],
)
def test_parse_errors_name_the_part(text: str, says: str) -> None:
    with pytest.raises(GradingError, match=re.escape(says)):
        parse_grading(text)


def test_docs_carry_the_generated_tables() -> None:
    """docs/grading.md embeds the tables between markers; regenerate them when this fails."""
    text = Path("docs/grading.md").read_text("utf-8")
    for name, generated in (("crosswalk", grading_table_markdown()), ("labels", labels_markdown())):
        found = re.search(rf"<!-- {name}:start -->\n(.*)<!-- {name}:end -->", text, re.S)
        assert found, f"docs/grading.md lacks the {name} markers"
        assert found.group(1).strip() == generated.strip()


def test_docs_table_rows_match_the_views() -> None:
    """Each row of the generated table reads back as the views of its code."""
    rows = re.findall(r"^\| (\d[A-E][PC]) \| (S\d) (I\d) \| (\w+) \| (\w+) \| ([^|]+) \| (\d+) \|$",
                      grading_table_markdown(), re.M)  # fmt: skip
    assert [r[0] for r in rows] == CODES
    for code, s, i, uk5, adm, eur, conf in rows:
        v = equivalents(_grading(code))
        assert (s, i, uk5, adm, eur.strip(), int(conf)) == (
            v.canonical_source, v.canonical_information, v.uk_5x5x5.code, v.admiralty.code,
            v.europol.code, v.stix_confidence,
        )  # fmt: skip
