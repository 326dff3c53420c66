"""Targeting: risk profiles, the criteria language, the scoring engine, structured selection,
control results and feedback.

    from redlane.targeting import Window, starter_profiles, target
    run = target(db, starter_profiles(), Window(since=day, until=next_day))
"""

from redlane.targeting.backtest import Backtest, backtest
from redlane.targeting.catalogue import CATALOGUE, TARGET_KINDS, catalogue_markdown
from redlane.targeting.criteria import Criteria, CriteriaError, parse_criteria
from redlane.targeting.engine import DuckDBEngine, Engine, TargetScore, Thresholds
from redlane.targeting.features import Window, features_for
from redlane.targeting.feedback import (
    Performance,
    import_results,
    performance,
    read_results_csv,
    record_results,
)
from redlane.targeting.profiles import (
    Lane,
    ProfileError,
    RiskProfile,
    Status,
    approve_profile,
    default_lists,
    latest_profiles,
    load_lists,
    load_profiles,
    retire_profile,
    save_profile,
    starter_profiles,
    stored_profiles,
)
from redlane.targeting.run import TargetingRun, target, worklist
from redlane.targeting.selection import SelectionSettings, select

__all__ = [
    "CATALOGUE",
    "TARGET_KINDS",
    "Backtest",
    "Criteria",
    "CriteriaError",
    "DuckDBEngine",
    "Engine",
    "Lane",
    "Performance",
    "ProfileError",
    "RiskProfile",
    "SelectionSettings",
    "Status",
    "TargetScore",
    "TargetingRun",
    "Thresholds",
    "Window",
    "approve_profile",
    "backtest",
    "catalogue_markdown",
    "default_lists",
    "features_for",
    "import_results",
    "latest_profiles",
    "load_lists",
    "load_profiles",
    "parse_criteria",
    "performance",
    "read_results_csv",
    "record_results",
    "retire_profile",
    "save_profile",
    "select",
    "starter_profiles",
    "stored_profiles",
    "target",
    "worklist",
]
