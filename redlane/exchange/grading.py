"""The stored 3x5x2 grading shown in the schemes partner services read: UK 5x5x5, NATO
Admiralty, Europol (with its H0-H3 handling codes) and a STIX confidence.

The 3x5x2 code as its author gave it stays the stored truth; every other scheme is a view
derived from it through the canonical source (S1-S5) and information (I1-I5) grades of the
cross-walk, and nothing here converts a view back. Where the cross-walk leaves a judgement
call (one 3x5x2 value spans several codes of another scheme), the view takes the code that
claims least: it never makes a source look more reliable, information more credible, or
handling freer than the author said.
"""

from __future__ import annotations

import re
from itertools import product

from redlane.exchange.model import Grading, Handling, Tlp
from redlane.model.base import RedlaneModel


class GradingError(ValueError):
    """A grading code that cannot be read; the message names the part and the reason."""


class Code(RedlaneModel):
    """One code of a scheme with its words: `str()` gives '1 Reliable', 'B Usually reliable'."""

    code: str
    label: str

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


# --- the words of each scheme (exchange.md §3.1-3.4; TLP from FIRST TLP 2.0) -------------

UK3_SOURCE = {"1": "Reliable", "2": "Untested", "3": "Not reliable"}
UK3_INTELLIGENCE = {
    "A": "Known directly to the source",
    "B": "Known indirectly to the source but corroborated",
    "C": "Known indirectly to the source",
    "D": "Not known",
    "E": "Suspected to be false",
}
UK3_HANDLING = {"P": "Lawful sharing permitted", "C": "Lawful sharing permitted with conditions"}

UK5_SOURCE = {
    "A": "Always reliable",
    "B": "Mostly reliable",
    "C": "Sometimes reliable",
    "D": "Unreliable",
    "E": "Untested source",
}
UK5_INTELLIGENCE = {
    "1": "Known to be true without reservation",
    "2": "Known personally to source but not to officer",
    "3": "Not personally known to source but corroborated",
    "4": "Cannot be judged",
    "5": "Suspected to be false or malicious",
}
UK5_HANDLING = {
    "1": "May be disseminated to other law enforcement and prosecuting agencies",
    "2": "May be disseminated to UK non-prosecuting parties",
    "3": "May be disseminated to non-EEA law enforcement",
    "4": "Within the holding agency only",
    "5": "No further dissemination: refer to the originator; special handling applies",
}

ADMIRALTY_RELIABILITY = {
    "A": "Completely reliable",
    "B": "Usually reliable",
    "C": "Fairly reliable",
    "D": "Not usually reliable",
    "E": "Unreliable",
    "F": "Reliability cannot be judged",
}
ADMIRALTY_CREDIBILITY = {
    "1": "Confirmed by other sources",
    "2": "Probably true",
    "3": "Possibly true",
    "4": "Doubtful",
    "5": "Improbable",
    "6": "Truth cannot be judged",
}

EUROPOL_SOURCE = {
    "A": "No doubt about authenticity, trustworthiness and competence",
    "B": "Reliable in most instances",
    "C": "Unreliable in most instances",
    "X": "Cannot be assessed",
}
EUROPOL_INFORMATION = {
    "1": "Accuracy not in doubt",
    "2": "Known personally to the source but not to the official passing it on",
    "3": "Not known personally to the source but corroborated by information already recorded",
    "4": "Not known personally to the source and cannot be corroborated",
}
EUROPOL_HANDLING = {
    "H0": "Only for preventing and combating crimes",
    "H1": "Not to be disclosed in judicial proceedings without the provider's permission",
    "H2": "Not to be disseminated without the provider's permission",
    "H3": "Other restrictions",
}

TLP_LABELS = {
    Tlp.CLEAR: "Disclosure is not limited",
    Tlp.GREEN: "Limited disclosure, restricted to the community",
    Tlp.AMBER: "Limited disclosure, restricted to participants' organisations and their clients",
    Tlp.AMBER_STRICT: "Limited disclosure, restricted to participants' organisation",
    Tlp.RED: "For the eyes and ears of individual recipients only, no further disclosure",
}

# --- the cross-walk (exchange.md §3.7), from the 3x5x2 side ------------------------------

#: 3x5x2 source → canonical source grade. '1 Reliable' covers S1 and S2: S2, which does not
#: claim 'always'. S3 ('sometimes') is never reached from 3x5x2: no 3x5x2 code says 'sometimes'.
SOURCE_CANONICAL = {"1": "S2", "2": "S5", "3": "S4"}
#: 3x5x2 intelligence → canonical information grade. 'A Known directly to the source' is I2
#: (known to the source, not to the officer), not I1 (confirmed without reservation).
INTELLIGENCE_CANONICAL = {"A": "I2", "B": "I3", "C": "I4", "D": "I4", "E": "I5"}

#: Canonical source → (5x5x5, Admiralty, Europol), for the grades 3x5x2 reaches. S4's
#: Admiralty 'D/E' is E: the 3x5x2 word is 'Not reliable', and the lower of the two never
#: overstates the source.
SOURCE_VIEWS = {
    "S2": ("B", "B", "B"),
    "S4": ("D", "E", "C"),
    "S5": ("E", "F", "X"),
}
#: Canonical information → (5x5x5, Admiralty, Europol, STIX confidence), for the grades
#: 3x5x2 reaches (none reaches I1, 'confirmed without reservation'). Where the cross-walk
#: gives a choice, the lower: I3 is Admiralty 3 (not 2) and STIX 50 (not 70); I4 is Admiralty
#: 6 'Truth cannot be judged' (not 3) and STIX 30 (not 50). The STIX values are those of the
#: STIX 2.1 Admiralty Credibility scale for the Admiralty code, except for 6, which that scale
#: cannot map: 30, the low end of the cross-walk's range. I5 has no Europol code.
INFORMATION_VIEWS: dict[str, tuple[str, str, str | None, int]] = {
    "I2": ("2", "2", "2", 70),
    "I3": ("3", "3", "3", 50),
    "I4": ("4", "6", "4", 30),
    "I5": ("5", "5", None, 10),
}

NO_EXPORT_TEXT = "no export out of redlane"


class Uk3x5x2View(RedlaneModel):
    source: Code
    intelligence: Code
    handling: Code
    conditions: str | None = None

    @property
    def code(self) -> str:
        return f"{self.source.code}{self.intelligence.code}{self.handling.code}"


class Uk5x5x5View(RedlaneModel):
    source: Code
    intelligence: Code
    handling: Code

    @property
    def code(self) -> str:
        """Written source, intelligence, handling: 'B35'."""
        return f"{self.source.code}{self.intelligence.code}{self.handling.code}"


class AdmiraltyView(RedlaneModel):
    reliability: Code
    credibility: Code

    @property
    def code(self) -> str:
        return f"{self.reliability.code}{self.credibility.code}"


class EuropolView(RedlaneModel):
    source: Code
    information: Code | None
    """None for information suspected to be false: Europol has no code for it."""
    handling: tuple[Code, ...]

    @property
    def code(self) -> str:
        # '-' where Europol has no information code (information suspected to be false)
        grade = self.source.code + (self.information.code if self.information else "-")
        return " ".join([grade, *(h.code for h in self.handling)])


class GradingViews(RedlaneModel):
    """A stored grading and handling in every scheme redlane shows."""

    code: str
    """The stored 3x5x2 code, e.g. '2BP'."""
    canonical_source: str
    canonical_information: str
    uk_3x5x2: Uk3x5x2View
    uk_5x5x5: Uk5x5x5View
    admiralty: AdmiraltyView
    europol: EuropolView
    tlp: Code
    stix_confidence: int


def tlp_code(tlp: Tlp) -> Code:
    return Code(code=f"TLP:{tlp.value.upper()}", label=TLP_LABELS[tlp])


def uk5x5x5_handling(grading: Grading, handling: Handling) -> str:
    """5x5x5 handling is read from the holder's side: any condition of the sender's (3x5x2 C,
    no forward, no court use, no export, TLP:RED) means 'refer to the originator' (5);
    TLP:AMBER+STRICT keeps it in the holder's organisation (4); anything else is 1. Codes 2
    and 3 (UK non-prosecuting parties, non-EEA services) need facts redlane does not hold."""
    if (
        grading.handling == "C"
        or handling.tlp == Tlp.RED
        or handling.no_forward
        or handling.no_court_use
        or handling.no_export
    ):
        return "5"
    if handling.tlp == Tlp.AMBER_STRICT:
        return "4"
    return "1"


def europol_handling(grading: Grading, handling: Handling) -> tuple[Code, ...]:
    """H1 for no court use; H2 for no forward, TLP:RED and TLP:AMBER+STRICT; H3 carrying the
    3x5x2 C conditions and the no-export flag as text; H0 alone when none of them applies (the
    purpose limitation of H0 binds anyway)."""
    codes: list[Code] = []
    if handling.no_court_use:
        codes.append(Code(code="H1", label=EUROPOL_HANDLING["H1"]))
    if handling.no_forward or handling.tlp in (Tlp.RED, Tlp.AMBER_STRICT):
        codes.append(Code(code="H2", label=EUROPOL_HANDLING["H2"]))
    other = []
    if grading.handling == "C" and grading.conditions:
        other.append(grading.conditions.strip())
    if handling.no_export:
        other.append(NO_EXPORT_TEXT)
    if other:
        codes.append(Code(code="H3", label=f"{EUROPOL_HANDLING['H3']}: {'; '.join(other)}"))
    return tuple(codes) or (Code(code="H0", label=EUROPOL_HANDLING["H0"]),)


def equivalents(grading: Grading, handling: Handling | None = None) -> GradingViews:
    """The grading (and the message's handling; default: TLP:AMBER, no flags) in every scheme."""
    handling = handling or Handling()
    s = SOURCE_CANONICAL[grading.source]
    i = INTELLIGENCE_CANONICAL[grading.intelligence]
    uk5_source, admiralty_source, europol_source = SOURCE_VIEWS[s]
    uk5_info, admiralty_info, europol_info, confidence = INFORMATION_VIEWS[i]
    uk5_handling = uk5x5x5_handling(grading, handling)
    return GradingViews(
        code=grading.code,
        canonical_source=s,
        canonical_information=i,
        uk_3x5x2=Uk3x5x2View(
            source=Code(code=grading.source, label=UK3_SOURCE[grading.source]),
            intelligence=Code(
                code=grading.intelligence, label=UK3_INTELLIGENCE[grading.intelligence]
            ),
            handling=Code(code=grading.handling, label=UK3_HANDLING[grading.handling]),
            conditions=grading.conditions,
        ),
        uk_5x5x5=Uk5x5x5View(
            source=Code(code=uk5_source, label=UK5_SOURCE[uk5_source]),
            intelligence=Code(code=uk5_info, label=UK5_INTELLIGENCE[uk5_info]),
            handling=Code(code=uk5_handling, label=UK5_HANDLING[uk5_handling]),
        ),
        admiralty=AdmiraltyView(
            reliability=Code(code=admiralty_source, label=ADMIRALTY_RELIABILITY[admiralty_source]),
            credibility=Code(code=admiralty_info, label=ADMIRALTY_CREDIBILITY[admiralty_info]),
        ),
        europol=EuropolView(
            source=Code(code=europol_source, label=EUROPOL_SOURCE[europol_source]),
            information=(
                Code(code=europol_info, label=EUROPOL_INFORMATION[europol_info])
                if europol_info
                else None
            ),
            handling=europol_handling(grading, handling),
        ),
        tlp=tlp_code(handling.tlp),
        stix_confidence=confidence,
    )


def describe(grading: Grading, handling: Handling | None = None) -> str:
    """The grading and handling for display, one scheme a line."""
    v = equivalents(grading, handling)
    uk3 = v.uk_3x5x2
    conditions = f" ({uk3.conditions})" if uk3.conditions else ""
    europol_info = str(v.europol.information) if v.europol.information else "no information code"
    lines = [
        f"3x5x2 {uk3.code}: {uk3.source} · {uk3.intelligence} · {uk3.handling}{conditions}",
        f"5x5x5 {v.uk_5x5x5.code}: {v.uk_5x5x5.source} · {v.uk_5x5x5.intelligence} · "
        f"{v.uk_5x5x5.handling}",
        f"Admiralty {v.admiralty.code}: {v.admiralty.reliability} · {v.admiralty.credibility}",
        f"Europol {v.europol.code}: {v.europol.source} · {europol_info} · "
        + " · ".join(str(h) for h in v.europol.handling),
        f"{v.tlp.code}: {v.tlp.label}",
        f"STIX confidence {v.stix_confidence}",
    ]
    return "\n".join(lines)


# --- the written form: '2BP', '1AC: only for the customs investigation service' ----------

_WRITTEN = re.compile(r"^\s*(?P<code>[^:\s]*)\s*(?::(?P<conditions>.*))?$", re.S)


def _choices(words: dict[str, str]) -> str:
    return ", ".join(f"{k} ({v.lower()})" for k, v in words.items())


def parse_grading(text: str) -> Grading:
    """Read a written grading: three characters (source 1-3, intelligence A-E, handling P/C),
    and for C a colon and the conditions. Letters may be lower case."""
    found = _WRITTEN.match(text)
    conditions = (found.group("conditions") or "").strip() if found else ""
    return grading_from(found.group("code") if found else "", conditions or None, text)


def grading_from(code: str, conditions: str | None = None, written: str | None = None) -> Grading:
    """The grading of a three-character code and its conditions (taken as they are); errors
    quote `written` (default: the code)."""
    shown = repr(code if written is None else written)
    code = code.upper()
    if len(code) != 3:
        raise GradingError(
            f"grading {shown}: a grading is three characters, source (1-3), intelligence "
            f"(A-E) and handling (P or C), e.g. '2BP' or '1AC: the conditions'"
        )
    source, intelligence, handling = code[0], code[1], code[2]
    if source not in UK3_SOURCE:
        raise GradingError(
            f"grading {shown}: source evaluation {source!r} is not one of {_choices(UK3_SOURCE)}"
        )
    if intelligence not in UK3_INTELLIGENCE:
        raise GradingError(
            f"grading {shown}: intelligence assessment {intelligence!r} is not one of "
            f"{_choices(UK3_INTELLIGENCE)}"
        )
    if handling not in UK3_HANDLING:
        raise GradingError(
            f"grading {shown}: handling code {handling!r} is not one of {_choices(UK3_HANDLING)}"
        )
    if handling == "C" and not (conditions or "").strip():
        raise GradingError(
            f"grading {shown}: handling code C needs its conditions after a colon, "
            f"e.g. '{code}: not to be used in court without consent'"
        )
    return Grading(
        source=source,  # type: ignore[arg-type]
        intelligence=intelligence,  # type: ignore[arg-type]
        handling=handling,  # type: ignore[arg-type]
        conditions=conditions,
    )


def format_grading(grading: Grading) -> str:
    """The written form `parse_grading` reads back."""
    return f"{grading.code}: {grading.conditions}" if grading.conditions else grading.code


# --- the tables docs/grading.md embeds (a test keeps them in sync) -----------------------

ALL_CODES: tuple[str, ...] = tuple(
    "".join(p) for p in product(UK3_SOURCE, UK3_INTELLIGENCE, UK3_HANDLING)
)
"""The 30 grading codes, 1AP to 3EC."""

_EXAMPLE_CONDITIONS = "the sender's conditions"


def grading_of(code: str) -> Grading:
    """A grading for each of the 30 codes; C codes get a placeholder condition."""
    return parse_grading(f"{code}: {_EXAMPLE_CONDITIONS}" if code.endswith("C") else code)


#: Handling situations the handling table shows: (what, grading handling code, Handling).
HANDLING_CASES: tuple[tuple[str, str, Handling], ...] = (
    ("P, TLP:CLEAR", "P", Handling(tlp=Tlp.CLEAR)),
    ("P, TLP:GREEN", "P", Handling(tlp=Tlp.GREEN)),
    ("P, TLP:AMBER", "P", Handling(tlp=Tlp.AMBER)),
    ("P, TLP:AMBER+STRICT", "P", Handling(tlp=Tlp.AMBER_STRICT)),
    ("P, TLP:RED", "P", Handling(tlp=Tlp.RED)),
    ("P, no court use", "P", Handling(no_court_use=True)),
    ("P, no forward", "P", Handling(no_forward=True)),
    ("P, no export", "P", Handling(no_export=True)),
    ("C (conditions)", "C", Handling()),
    ("C, no court use, no forward", "C", Handling(no_court_use=True, no_forward=True)),
)


def grading_table_markdown() -> str:
    """Every 3x5x2 code in the other schemes (at TLP:AMBER without flags), then the handling
    rules, as Markdown tables."""
    rows = [
        "| 3x5x2 | canonical | UK 5x5x5 | NATO Admiralty | Europol | STIX confidence |",
        "|---|---|---|---|---|---|",
    ]
    for code in ALL_CODES:
        v = equivalents(grading_of(code))
        rows.append(
            f"| {code} | {v.canonical_source} {v.canonical_information} | {v.uk_5x5x5.code} | "
            f"{v.admiralty.code} | {v.europol.code} | {v.stix_confidence} |"
        )
    rows += [
        "",
        "| handling | UK 5x5x5 handling | Europol handling |",
        "|---|---|---|",
    ]
    for what, uk3, handling in HANDLING_CASES:
        v = equivalents(grading_of(f"2B{uk3}"), handling)
        europol = "; ".join(str(h) for h in v.europol.handling)
        rows.append(f"| {what} | {v.uk_5x5x5.handling} | {europol} |")
    return "\n".join(rows) + "\n"


def labels_markdown() -> str:
    """The words of every scheme's codes, one table per scheme part."""
    parts = []
    for title, words in (
        ("UK 3x5x2 source evaluation", UK3_SOURCE),
        ("UK 3x5x2 intelligence assessment", UK3_INTELLIGENCE),
        ("UK 3x5x2 handling", UK3_HANDLING),
        ("UK 5x5x5 source evaluation", UK5_SOURCE),
        ("UK 5x5x5 intelligence evaluation", UK5_INTELLIGENCE),
        ("UK 5x5x5 handling", UK5_HANDLING),
        ("NATO Admiralty source reliability", ADMIRALTY_RELIABILITY),
        ("NATO Admiralty information credibility", ADMIRALTY_CREDIBILITY),
        ("Europol source", EUROPOL_SOURCE),
        ("Europol information", EUROPOL_INFORMATION),
        ("Europol handling", EUROPOL_HANDLING),
    ):
        parts.append(f"**{title}**: " + " · ".join(f"{k} {v}" for k, v in words.items()))
    parts.append("**TLP 2.0**: " + " · ".join(str(tlp_code(t)) for t in Tlp))
    return "\n\n".join(parts) + "\n"
