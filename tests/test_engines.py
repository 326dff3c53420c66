"""Both engines, one result: DuckDB (embedded) and Spark score the same table alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import pytest
from conftest import feature_table
from test_targeting import TRICKY

from redlane.targeting import CATALOGUE, DuckDBEngine, starter_profiles

pyspark = pytest.importorskip("pyspark", reason="the Spark extra is not installed")

from redlane.targeting.spark import SparkEngine, local_session  # noqa: E402


@pytest.fixture(scope="module")
def session() -> Iterator[object]:
    spark = local_session()
    yield spark
    spark.stop()


def _rows(n: int, seed: int) -> list[dict[str, object]]:
    """Random consignment facts, nulls included, drawn from values the profiles test."""
    rng = np.random.default_rng(seed)
    words = [
        "EC",
        "CO",
        "NL",
        "PA",
        "0803",
        "080390",
        "0603",
        "bananas",
        "prepaid",
        "collect",
        "PAMIT",
        "ECGYE",
        "COBOG",
        "sea",
        "air",
    ]
    words += ["general cargo", "Nova BV", ""]
    pick = {
        "string": lambda: str(rng.choice(words)),
        "integer": lambda: int(rng.integers(-2, 40)),
        "number": lambda: float(rng.choice([0.0, 0.1, 0.25, 0.3, 0.45, 1.0, 2.5, 150.0, 1e6])),
        "boolean": lambda: bool(rng.random() < 0.5),
        "date": lambda: date(2026, 11, int(rng.integers(1, 5))),
        "list": lambda: [str(w) for w in rng.choice(words, size=int(rng.integers(0, 4)))],
    }
    rows = []
    for i in range(n):
        row: dict[str, object] = {
            "target_kind": "consignment",
            "target_id": i,
            "target_ref": f"R{i}",
        }
        for name, field in CATALOGUE["consignment"].items():
            row[name] = None if rng.random() < 0.15 else pick[field.type]()
        row["mode"] = str(rng.choice(["sea", "air"]))
        rows.append(row)
    return rows


def test_duckdb_and_spark_give_the_same_hits_scores_and_lanes(session: object) -> None:
    profiles = [*starter_profiles(), *TRICKY]
    table = feature_table(_rows(400, seed=11))
    duck = DuckDBEngine(profiles).score("consignment", table).to_pylist()
    spark = SparkEngine(profiles, session=session).score("consignment", table).to_pylist()  # type: ignore[arg-type]
    assert sum(bool(r["hits"]) for r in duck) > 100  # the table exercises the profiles
    for a, b in zip(duck, spark, strict=True):
        assert (a["target_id"], sorted(a["hits"]), a["score"], a["lane"]) == (
            b["target_id"], sorted(b["hits"]), b["score"], b["lane"],
        )  # fmt: skip
