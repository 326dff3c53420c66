"""Risk profiles (targeting criteria): versioned, owned, dated rules with a rationale.

A profile lives as a YAML file (what analysts write and review) and as database records (one
row per version). Approval needs a second person; every change is a new version, and every
selection cites the version that made it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator
from sqlalchemy import insert, select, update

from redlane.model.base import RedlaneModel
from redlane.store.database import Database
from redlane.store.schema import risk_profiles
from redlane.targeting.catalogue import TargetKind
from redlane.targeting.criteria import Criteria, CriteriaError, ReferenceLists, parse_criteria


class Lane(StrEnum):
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"


LANE_STRENGTH = {Lane.GREEN: 0, Lane.YELLOW: 1, Lane.RED: 2}


class Status(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    ACTIVE = "active"
    EXPIRED = "expired"
    RETIRED = "retired"


class SuggestedAction(StrEnum):
    """CIS suggested actions (Regulation 515/97 Art. 27; Decision 2009/917/JHA)."""

    SIGHTING_AND_REPORTING = "sighting_and_reporting"
    DISCREET_SURVEILLANCE = "discreet_surveillance"
    SPECIFIC_CHECK = "specific_check"
    OPERATIONAL_ANALYSIS = "operational_analysis"
    STRATEGIC_ANALYSIS = "strategic_analysis"


Mode = Literal["sea", "air-cargo", "air-passenger", "yacht", "road", "any"]

#: What each mode targets, and the (field, value) that narrows the targets to the mode.
MODE_TARGETS: dict[str, tuple[TargetKind, tuple[str, str] | None]] = {
    "sea": ("consignment", ("mode", "sea")),
    "air-cargo": ("consignment", ("mode", "air")),
    "any": ("consignment", None),
    "air-passenger": ("traveller", None),
    "yacht": ("movement", ("conveyance_kind", "yacht")),
    "road": ("movement", ("conveyance_kind", "truck")),
}


class Action(RedlaneModel):
    lane: Lane = Lane.RED
    suggested_action: SuggestedAction | None = None


class Scope(RedlaneModel):
    offices: list[str] = Field(default_factory=list)
    """Offices, ports or airports (UN/LOCODE or office code) it applies to; empty: all."""
    operation: str | None = None


class ProfileError(ValueError):
    """A profile that cannot be loaded or changed; the message names the profile and why."""


class RiskProfile(RedlaneModel):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")
    version: int = Field(default=1, ge=1)
    title: str = Field(min_length=3)
    rationale: str = Field(min_length=10)
    """Plain language shown to officers: why this is risky, what to look at."""
    mode: Mode
    scope: Scope = Field(default_factory=Scope)
    criteria: str = Field(min_length=1)
    weight: int = Field(ge=0, le=1000)
    action: Action = Field(default_factory=Action)
    valid_from: date
    valid_to: date | None = None
    owner: str = Field(min_length=2)
    status: Status = Status.DRAFT
    review_by: date | None = None
    author: str = Field(min_length=2)
    approved_by: str | None = None
    source: str | None = None
    """Where the indicator comes from (guidance, case, analysis)."""

    @model_validator(mode="after")
    def _approval_by_another(self) -> RiskProfile:
        if self.status in (Status.APPROVED, Status.ACTIVE, Status.EXPIRED):
            if not self.approved_by:
                raise ValueError(f"status {self.status.value} needs approved_by")
            if self.approved_by == self.author:
                raise ValueError("approved_by must be another person than the author")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self

    @property
    def target(self) -> TargetKind:
        return MODE_TARGETS[self.mode][0]

    def compiled(self, lists: ReferenceLists) -> Criteria:
        return parse_criteria(self.criteria, self.target, lists, self.id)

    def content_hash(self) -> str:
        """What makes a version: everything but the version number and the workflow fields."""
        data = self.model_dump(
            mode="json", exclude={"version", "status", "approved_by", "review_by"}
        )
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def in_force(self, on: date) -> bool:
        """Approved or active, and valid on the day."""
        if self.status not in (Status.APPROVED, Status.ACTIVE):
            return False
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@cache
def default_lists() -> dict[str, tuple[str, ...]]:
    """The reference lists shipped with redlane (`lists.yaml`, each with its source)."""
    text = resources.files("redlane.targeting").joinpath("lists.yaml").read_text("utf-8")
    return {
        name: tuple(str(v) for v in spec["values"]) for name, spec in yaml.safe_load(text).items()
    }


def load_lists(path: Path | None = None) -> dict[str, tuple[str, ...]]:
    """The shipped lists, extended or overridden by a YAML file of the same shape."""
    lists = dict(default_lists())
    if path is not None:
        try:
            data = yaml.safe_load(path.read_text("utf-8")) or {}
            for name, spec in data.items():
                lists[name] = tuple(str(v) for v in spec["values"])
        except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
            raise ProfileError(f"{path}: not a list file ({exc})") from exc
    return lists


def _from_yaml(path: Path) -> list[RiskProfile]:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: cannot read: {exc}") from exc
    items = data if isinstance(data, list) else [data]
    out = []
    for i, item in enumerate(items):
        try:
            out.append(RiskProfile.model_validate(item))
        except ValidationError as exc:
            where = item.get("id", f"#{i + 1}") if isinstance(item, dict) else f"#{i + 1}"
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'profile'}: {e['msg']}"
                for e in exc.errors()
            )
            raise ProfileError(f"{path}: profile {where}: {problems}") from exc
    return out


def load_profiles(
    path: Path | Iterable[Path], lists: ReferenceLists | None = None
) -> list[RiskProfile]:
    """Profiles from a YAML file or a directory of them, each validated with its criteria.

    Raises ProfileError (or CriteriaError) naming the file, the profile and the reason.
    """
    paths = [path] if isinstance(path, Path) else list(path)
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]))
        elif p.exists():
            files.append(p)
        else:
            raise ProfileError(f"{p}: no such file or directory")
    lists = default_lists() if lists is None else lists
    profiles: list[RiskProfile] = []
    seen: dict[tuple[str, int], Path] = {}
    for file in files:
        for profile in _from_yaml(file):
            key = (profile.id, profile.version)
            if key in seen:
                raise ProfileError(
                    f"{file}: profile {profile.id} v{profile.version} also in {seen[key]}"
                )
            seen[key] = file
            profile.compiled(lists)  # raises CriteriaError with the profile id
            profiles.append(profile)
    return profiles


def starter_profiles() -> list[RiskProfile]:
    """The starter library shipped with redlane (`redlane/targeting/starter`)."""
    folder = resources.files("redlane.targeting").joinpath("starter")
    return load_profiles(Path(str(folder)))


# --- profiles as database records ------------------------------------------------------------


def _row(profile: RiskProfile) -> dict[str, Any]:
    return {
        "profile_id": profile.id,
        "version": profile.version,
        "status": profile.status.value,
        "mode": profile.mode,
        "title": profile.title,
        "author": profile.author,
        "approved_by": profile.approved_by,
        "content_hash": profile.content_hash(),
        "body": profile.model_dump_json(),
        "created_at": datetime.now(UTC),
    }


def stored_profiles(db: Database, profile_id: str | None = None) -> list[RiskProfile]:
    """Every stored version (of one profile, or of all), oldest first."""
    query = select(risk_profiles.c.body).order_by(
        risk_profiles.c.profile_id, risk_profiles.c.version
    )
    if profile_id is not None:
        query = query.where(risk_profiles.c.profile_id == profile_id)
    with db.engine.connect() as conn:
        return [RiskProfile.model_validate_json(body) for body in conn.execute(query).scalars()]


def latest_profiles(db: Database) -> list[RiskProfile]:
    """The newest version of each stored profile."""
    latest: dict[str, RiskProfile] = {}
    for p in stored_profiles(db):
        latest[p.id] = p
    return list(latest.values())


def save_profile(
    db: Database, profile: RiskProfile, lists: ReferenceLists | None = None
) -> RiskProfile:
    """Store a profile; a changed profile becomes a new version (as a draft, to be approved).

    Returns what is stored: the profile unchanged when its content is already the latest
    version, else the new version.
    """
    profile.compiled(default_lists() if lists is None else lists)
    versions = stored_profiles(db, profile.id)
    if versions:
        latest = versions[-1]
        if latest.content_hash() == profile.content_hash():
            return latest
        profile = profile.model_copy(
            update={"version": latest.version + 1, "status": Status.DRAFT, "approved_by": None}
        )
        profile = RiskProfile.model_validate(profile.model_dump())
    with db.engine.begin() as conn:
        conn.execute(insert(risk_profiles).values(**_row(profile)))
    return profile


def _set_status(db: Database, profile: RiskProfile, **values: Any) -> RiskProfile:
    try:
        changed = RiskProfile.model_validate({**profile.model_dump(), **values})
    except ValidationError as exc:
        raise ProfileError(
            f"profile {profile.id} v{profile.version}: {exc.errors()[0]['msg']}"
        ) from exc
    with db.engine.begin() as conn:
        conn.execute(
            update(risk_profiles)
            .where(
                risk_profiles.c.profile_id == profile.id,
                risk_profiles.c.version == profile.version,
            )
            .values(
                status=changed.status.value,
                approved_by=changed.approved_by,
                body=changed.model_dump_json(),
            )
        )
    return changed


def _latest(db: Database, profile_id: str) -> RiskProfile:
    versions = stored_profiles(db, profile_id)
    if not versions:
        raise ProfileError(f"profile {profile_id}: not stored")
    return versions[-1]


def approve_profile(
    db: Database, profile_id: str, approver: str, on: date | None = None
) -> RiskProfile:
    """Approve the latest version: by someone other than its author. It is active from
    its valid_from day on."""
    profile = _latest(db, profile_id)
    if profile.status != Status.DRAFT:
        raise ProfileError(
            f"profile {profile_id} v{profile.version} is {profile.status.value}, not a draft"
        )
    if approver == profile.author:
        raise ProfileError(
            f"profile {profile_id}: the author ({approver}) cannot approve it; a second person must"
        )
    today = on or date.today()
    status = Status.ACTIVE if profile.valid_from <= today else Status.APPROVED
    return _set_status(db, profile, status=status, approved_by=approver)


def retire_profile(db: Database, profile_id: str) -> RiskProfile:
    profile = _latest(db, profile_id)
    if profile.status == Status.RETIRED:
        raise ProfileError(f"profile {profile_id} v{profile.version} is already retired")
    return _set_status(db, profile, status=Status.RETIRED)


def refresh_statuses(db: Database, on: date | None = None) -> list[RiskProfile]:
    """Approved profiles whose day has come become active; those past valid_to, expired."""
    today = on or date.today()
    changed = []
    for profile in latest_profiles(db):
        if (
            profile.status in (Status.APPROVED, Status.ACTIVE)
            and profile.valid_to
            and profile.valid_to < today
        ):
            changed.append(_set_status(db, profile, status=Status.EXPIRED))
        elif profile.status == Status.APPROVED and profile.valid_from <= today:
            changed.append(_set_status(db, profile, status=Status.ACTIVE))
    return changed


__all__ = [
    "LANE_STRENGTH",
    "MODE_TARGETS",
    "Action",
    "CriteriaError",
    "Lane",
    "ProfileError",
    "RiskProfile",
    "Scope",
    "Status",
    "SuggestedAction",
    "approve_profile",
    "default_lists",
    "latest_profiles",
    "load_lists",
    "load_profiles",
    "refresh_statuses",
    "retire_profile",
    "save_profile",
    "starter_profiles",
    "stored_profiles",
]
