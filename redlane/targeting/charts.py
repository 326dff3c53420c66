"""Charts of targeting performance: what heads of risk management look at first."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no screen on a server

import matplotlib.pyplot as plt

from redlane.targeting.feedback import Performance


def performance_chart(report: Performance, path: Path) -> Path:
    """Hit rate per profile (bars, with controls and seizures) against the random control
    group's hit rate (line), written as PNG or SVG by the file's suffix."""
    rows = sorted((r for r in report.profiles if r.controlled), key=lambda r: r.hit_rate or 0.0)
    if not rows:
        raise ValueError("no controlled selections in the period: nothing to chart")
    height = max(3.0, 0.32 * len(rows) + 1.5)
    figure, axes = plt.subplots(figsize=(9, height))
    rates = [100 * (r.hit_rate or 0.0) for r in rows]
    colours = ["#b2182b" if r.review else "#2166ac" for r in rows]
    axes.barh([r.name for r in rows], rates, color=colours)
    for y, r in enumerate(rows):
        axes.text(
            rates[y] + 1, y, f"{r.hits}/{r.controlled}", va="center", fontsize=8, color="#333333"
        )
    if report.random_hit_rate is not None:
        axes.axvline(100 * report.random_hit_rate, color="#555555", linestyle="--", linewidth=1)
        axes.text(
            100 * report.random_hit_rate, len(rows) - 0.4,
            f" random {report.random_hit_rate:.1%}", fontsize=8, color="#555555",
        )  # fmt: skip
    axes.set_xlim(0, 110)
    axes.set_xlabel("hit rate among controlled selections, % (seizures / controls)")
    period = f"{report.since or 'start'} to {report.until or 'now'}"
    axes.set_title(f"Hit rate per risk profile, {period} (red: flagged for review)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
