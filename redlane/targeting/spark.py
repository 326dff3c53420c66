"""The Spark engine: the same compiled profiles, in Spark SQL, for history-scale batches.

Spark is an optional extra (`pip install 'redlane[spark]'`, Java 17). The engine takes the same
Arrow feature tables as the DuckDB engine, hands them to Spark, runs the profiles compiled in
Spark's dialect and brings the hits back as Arrow; scores, lanes and reasons are then computed
by the shared `Engine` code, so both engines rank alike (a test runs both on the same table).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from redlane.targeting.catalogue import TargetKind
from redlane.targeting.criteria import Dialect, ReferenceLists
from redlane.targeting.engine import Engine, Thresholds
from redlane.targeting.profiles import RiskProfile

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def local_session(cores: int = 2) -> SparkSession:
    """A local Spark session in UTC, without the web UI."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # the extra is not installed
        raise ImportError(
            "the Spark engine needs pyspark: pip install 'redlane[spark]' (and Java 17)"
        ) from exc
    builder: Any = SparkSession.builder
    session: SparkSession = (
        builder.master(f"local[{cores}]")
        .appName("redlane")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    return session


class SparkEngine(Engine):
    """Scores Arrow feature tables on a Spark session (local by default)."""

    dialect: Dialect = "spark"

    def __init__(
        self,
        profiles: Sequence[RiskProfile],
        lists: ReferenceLists | None = None,
        thresholds: Thresholds | None = None,
        session: SparkSession | None = None,
    ) -> None:
        self.session = session if session is not None else local_session()
        super().__init__(profiles, lists, thresholds)

    def hits(self, kind: TargetKind, features: pa.Table) -> pa.Table:
        frame = self.session.createDataFrame(features)
        frame.createOrReplaceTempView("features")
        result: pa.Table = self.session.sql(self.compiled.sql[kind]).toArrow()
        hits = result.column("hits").cast(pa.list_(pa.int32()))
        return result.set_column(result.schema.get_field_index("hits"), "hits", hits)
