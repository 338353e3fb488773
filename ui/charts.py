"""Small charts rendered server-side as SVG geometry (the template draws rects; no chart script)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

WIDTH = 560
HEIGHT = 160
PAD_LEFT = 28
PAD_BOTTOM = 18
PAD_TOP = 6
MAX_SERIES = 5  # more event types than this are folded into "other" so colours stay readable


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass
class StackedChart:
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    labels: list[dict] = field(default_factory=list)  # x tick labels
    y_ticks: list[dict] = field(default_factory=list)
    legend: list[dict] = field(default_factory=list)
    total: int = 0
    baseline: float = HEIGHT - PAD_BOTTOM


def _nice_max(value: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if value <= step * 4:
            return step * 4
    return value


def stacked_by_day(
    days: list[date],
    counts: dict[tuple[date, str], int],
    *,
    series_order: list[str] | None = None,
    css_for: dict[str, str] | None = None,
) -> StackedChart:
    """One bar per day, stacked by series (event type / run status)."""
    totals_by_series: dict[str, int] = {}
    for (_, name), n in counts.items():
        totals_by_series[name] = totals_by_series.get(name, 0) + n
    if series_order is None:
        ranked = sorted(totals_by_series, key=lambda s: (-totals_by_series[s], s))
        series = ranked[:MAX_SERIES]
        folded = set(ranked[MAX_SERIES:])
    else:
        series = [s for s in series_order if s in totals_by_series]
        folded = set(totals_by_series) - set(series)
    if folded:
        series.append("other")
    css = {name: (css_for or {}).get(name, f"c{i % 6}") for i, name in enumerate(series)}
    if "other" in css and not (css_for and "other" in css_for):
        css["other"] = "c-other"

    per_day: dict[date, dict[str, int]] = {d: {} for d in days}
    for (day, name), n in counts.items():
        if day not in per_day:
            continue
        key = "other" if name in folded else name
        per_day[day][key] = per_day[day].get(key, 0) + n

    chart = StackedChart()
    chart.total = sum(sum(v.values()) for v in per_day.values())
    top = _nice_max(max([sum(v.values()) for v in per_day.values()] + [1]))
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = (WIDTH - PAD_LEFT) / max(len(days), 1)
    bar_w = max(slot * 0.6, 2)
    for i, day in enumerate(days):
        x = PAD_LEFT + i * slot + (slot - bar_w) / 2
        y = HEIGHT - PAD_BOTTOM
        for name in series:
            n = per_day[day].get(name, 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            chart.bars.append(Bar(round(x, 1), round(y, 1), round(bar_w, 1), round(h, 1), css[name],
                                  f"{day:%b %d} · {name}: {n}"))
        chart.labels.append({"x": round(x + bar_w / 2, 1), "text": f"{day:%d %b}" if len(days) <= 10 else f"{day:%d}"})
    for frac in (0, 0.5, 1):
        chart.y_ticks.append({"y": round(HEIGHT - PAD_BOTTOM - plot_h * frac, 1), "text": str(int(top * frac))})
    chart.legend = [{"name": name, "css": css[name], "count": totals_by_series.get(name, 0) if name != "other"
                     else sum(totals_by_series[f] for f in folded)} for name in series]
    return chart
