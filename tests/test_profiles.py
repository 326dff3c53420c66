"""Risk profiles: YAML, versions, four-eyes approval, retirement, and the starter library."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from redlane.store.database import Database
from redlane.targeting import (
    CATALOGUE,
    CriteriaError,
    ProfileError,
    RiskProfile,
    Status,
    approve_profile,
    load_profiles,
    retire_profile,
    save_profile,
    starter_profiles,
    stored_profiles,
)
from redlane.targeting.catalogue import NATIONALITY_FIELDS, PROTECTED_ATTRIBUTES
from redlane.targeting.profiles import default_lists, refresh_statuses

DRAFT = {
    "id": "SEA-T1",
    "title": "Bananas from Ecuador",
    "rationale": "Bananas from Ecuador for a consignee never seen before.",
    "mode": "sea",
    "criteria": "origin_country = 'EC' AND hs4 = '0803' AND consignee_prior_documents = 0",
    "weight": 40,
    "action": {"lane": "red", "suggested_action": "specific_check"},
    "valid_from": "2026-01-01",
    "owner": "NL customs risk centre",
    "author": "analyst.a",
}


def write(tmp_path: Path, *profiles: dict[str, object], name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(list(profiles)), "utf-8")
    return path


def test_yaml_profiles_load_and_validate(tmp_path: Path) -> None:
    (profile,) = load_profiles(write(tmp_path, DRAFT))
    assert profile.status == Status.DRAFT and profile.version == 1
    assert profile.target == "consignment"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"criteria": "origin_country = 'EC' AND foo > 1"}, "unknown field 'foo'"),
        ({"weight": -5}, "weight: Input should be greater than or equal to 0"),
        ({"mode": "rail"}, "mode: Input should be"),
        ({"status": "active", "approved_by": "analyst.a"}, "another person than the author"),
        ({"status": "active"}, "status active needs approved_by"),
        ({"valid_to": "2025-01-01"}, "valid_to is before valid_from"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_bad_profiles_name_file_profile_and_reason(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    path = write(tmp_path, {**DRAFT, **change})
    with pytest.raises((ProfileError, CriteriaError)) as caught:
        load_profiles(path)
    text = str(caught.value)
    assert message in text
    assert "SEA-T1" in text


def test_duplicate_versions_across_files_are_refused(tmp_path: Path) -> None:
    write(tmp_path, DRAFT, name="a.yaml")
    write(tmp_path, DRAFT, name="b.yaml")
    with pytest.raises(ProfileError, match="SEA-T1 v1 also in"):
        load_profiles(tmp_path)


def test_every_change_is_a_new_version_and_approval_needs_a_second_person(db: Database) -> None:
    draft = RiskProfile.model_validate(DRAFT)
    assert save_profile(db, draft).version == 1
    assert save_profile(db, draft).version == 1  # unchanged content: no new version
    with pytest.raises(ProfileError, match="cannot approve it; a second person must"):
        approve_profile(db, "SEA-T1", "analyst.a")
    approved = approve_profile(db, "SEA-T1", "supervisor.b", on=date(2026, 6, 1))
    assert (approved.status, approved.approved_by) == (Status.ACTIVE, "supervisor.b")

    changed = draft.model_copy(update={"weight": 60})
    second = save_profile(db, changed)
    assert (second.version, second.status) == (2, Status.DRAFT)
    versions = stored_profiles(db, "SEA-T1")
    assert [(p.version, p.status, p.weight) for p in versions] == [
        (1, Status.ACTIVE, 40),
        (2, Status.DRAFT, 60),
    ]
    assert retire_profile(db, "SEA-T1").status == Status.RETIRED
    with pytest.raises(ProfileError, match="is retired, not a draft"):
        approve_profile(db, "SEA-T1", "supervisor.b")
    assert stored_profiles(db, "SEA-T1")[-1].status == Status.RETIRED


def test_approved_profiles_start_and_expire_on_their_dates(db: Database) -> None:
    future = RiskProfile.model_validate(
        {**DRAFT, "valid_from": "2027-01-01", "valid_to": "2027-03-31"}
    )
    save_profile(db, future)
    assert approve_profile(db, "SEA-T1", "sup", on=date(2026, 12, 1)).status == Status.APPROVED
    assert [p.status for p in refresh_statuses(db, on=date(2027, 1, 2))] == [Status.ACTIVE]
    assert [p.status for p in refresh_statuses(db, on=date(2027, 4, 1))] == [Status.EXPIRED]


def test_starter_library_is_broad_documented_and_fair() -> None:
    profiles = starter_profiles()
    assert len(profiles) >= 25
    assert len({p.id for p in profiles}) == len(profiles)
    assert {p.mode for p in profiles} >= {"sea", "air-cargo", "air-passenger", "yacht", "road"}
    lists = default_lists()
    for p in profiles:
        assert p.rationale and p.source, p.id
        assert p.status == Status.ACTIVE and p.approved_by != p.author
        fields = p.compiled(lists).fields
        assert fields <= set(CATALOGUE[p.target])
        assert not fields & PROTECTED_ATTRIBUTES, p.id
        assert fields - NATIONALITY_FIELDS, f"{p.id} rests on nationality alone"
