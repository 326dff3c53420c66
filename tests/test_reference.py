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
