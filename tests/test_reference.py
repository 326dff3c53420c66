"""Reference places: the shipped UN/LOCODE list and what it says about a place."""

from __future__ import annotations

from redlane.reference import place_label, places


def test_main_ports_airports_and_crossings_are_known() -> None:
    known = places()
    assert known["NLRTM"].name == "Rotterdam" and known["NLRTM"].is_port
    assert known["NLAMS"].is_airport
    assert known["SIDOB"].is_border_crossing and not known["SIDOB"].is_port
    assert known["ECGYE"].country == "EC"
    assert -90 <= known["PAMIT"].lat <= 90


def test_labels_name_known_places_and_keep_unknown_codes() -> None:
    assert place_label("DEHAM") == "DEHAM Hamburg"
    assert place_label("ZZZZZ") == "ZZZZZ"


def test_iata_airport_codes_resolve_to_unlocodes_or_to_nothing() -> None:
    from redlane.reference import airport_locode

    assert [airport_locode(c) for c in ("FRA", "jfk", "BOG", "LGG", "ADD")] == [
        "DEFRA", "USJFK", "COBOG", "BELGG", "ETADD",
    ]  # fmt: skip
    assert airport_locode("FRA", country="DE") == "DEFRA"
    assert airport_locode("FRA", country="US") is None  # no Frankfurt airport in the US
    assert airport_locode("QQQ") is None
    # UN/LOCODE names Lagos airport's IATA code explicitly; that beats codes ending in LOS
    assert airport_locode("LOS") == "NGLOA"
    ambiguous = [code for code in ("AAN", "KWH", "UND") if airport_locode(code) is None]
    assert ambiguous, "small airfields share suffixes: without a country they stay unresolved"
