"""Chart geometry for the dashboards' server-rendered SVG: plain data in, shapes out.

Pure (no Django, no ORM), so the drawing can be tested on its own. The templates
(templates/reports/dashboard_chart_*.html) draw what these return and put the same numbers in a
data table behind each chart; colours come from CSS classes (tones), never from here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 640  # vertical charts (columns, lines)
BARS_WIDTH = 520  # horizontal bars, which sit in half-width cards
LABEL_WIDTH = 170  # horizontal bars: the label column
VALUE_WIDTH = 100  # horizontal bars: room for the figure after the bar
CHARACTER_WIDTH = 7  # about, at the charts' 13px: how many characters a label column holds
ROW_HEIGHT = 30
BAR_HEIGHT = 18
PLOT_HEIGHT = 180
MARGIN_LEFT = 44  # vertical charts: the y axis' labels
MARGIN_BOTTOM = 28  # vertical charts: the x axis' labels
MARGIN_TOP = 10
SERIES_TONES = 6  # line charts cycle through chart-series-1..6


def axis(value: float, *, steps: int = 4) -> tuple[float, list[float]]:
    """An axis from 0 covering `value`: its top and its ticks, a round step apart."""
    step = nice_ceiling(value / steps) if value > 0 else 0.25
    count = max(1, math.ceil(value / step - 1e-9))
    return step * count, [round(step * i, 6) for i in range(count + 1)]


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 (times a power of ten) at or above `value`: an axis' top."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power + 1e-9:
            return step * power
    return 10 * power  # pragma: no cover (the loop ends at 10)


def _tick_label(value: float) -> str:
    return f"{value:g}"


# --- Horizontal bars: funnel, health, goals, feedback, per-program shares -----------------------


@dataclass(frozen=True)
class BarItem:
    label: str
    value: float | None  # None: not shown (e.g. below the answer threshold)
    display: str  # the figure as the page words it ("42", "3.8 of 5", "—")
    href: str = ""  # the drill-down behind the figure
    tone: str = "accent"  # chart-tone-<tone> in pages.css
    note: str = ""  # said in the data table, e.g. "shown from 3 answers"


@dataclass(frozen=True)
class PlacedBar:
    item: BarItem
    y: float
    width: float
    text_y: float
    value_x: float


@dataclass(frozen=True)
class HBarChart:
    width: int
    height: int
    label_width: int
    bars: tuple[PlacedBar, ...]
    bar_height: int = BAR_HEIGHT

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def label_characters(self) -> int:
        """Labels longer than this are cut short in the chart (whole in its data table)."""
        return (self.label_width - 8) // CHARACTER_WIDTH


def hbar_chart(
    items: Sequence[BarItem],
    *,
    maximum: float | None = None,
    width: int = BARS_WIDTH,
    label_width: int = LABEL_WIDTH,
    value_width: int = VALUE_WIDTH,
) -> HBarChart:
    """One bar per item, lengths proportional to `maximum` (default: the largest value)."""
    values = [i.value for i in items if i.value is not None]
    top = maximum if maximum is not None else max(values, default=0.0)
    span = width - label_width - value_width
    bars = []
    for n, item in enumerate(items):
        y = n * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
        length = 0.0 if not top or item.value is None else span * max(item.value, 0) / top
        bars.append(
            PlacedBar(
                item=item,
                y=round(y, 1),
                width=round(max(length, 2.0 if item.value else 0.0), 1),
                text_y=round(n * ROW_HEIGHT + ROW_HEIGHT / 2 + 4, 1),
                value_x=round(label_width + length + 6, 1),
            )
        )
    return HBarChart(
        width=width,
        height=max(len(items), 1) * ROW_HEIGHT,
        label_width=label_width,
        bars=tuple(bars),
    )


# --- Columns with an expected level: check-ins per relationship, month by month ---------------


@dataclass(frozen=True)
class ColumnItem:
    label: str  # "Mar"
    value: float | None  # None: no relationship running that month
    display: str
    expected: float | None = None  # what the agreed cadences ask for that month
    href: str = ""


@dataclass(frozen=True)
class PlacedColumn:
    item: ColumnItem
    x: float
    y: float
    width: float
    height: float
    label_x: float
    expected_y: float | None


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class ColumnChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_bottom: int
    columns: tuple[PlacedColumn, ...]
    ticks: tuple[Tick, ...]
    expected_path: str  # an SVG path through the expected levels ("" when none)

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def column_chart(items: Sequence[ColumnItem]) -> ColumnChart:
    values = [v for i in items for v in (i.value, i.expected) if v is not None]
    top, ticks = axis(max(values, default=0.0))
    bottom = MARGIN_TOP + PLOT_HEIGHT
    span = WIDTH - MARGIN_LEFT - 10
    slot = span / max(len(items), 1)
    columns = []
    path: list[str] = []
    for n, item in enumerate(items):
        x = MARGIN_LEFT + n * slot
        height = 0.0 if item.value is None else PLOT_HEIGHT * item.value / top
        expected_y = None
        if item.expected is not None:
            expected_y = round(bottom - PLOT_HEIGHT * item.expected / top, 1)
            command = "M" if not path or items[n - 1].expected is None else "L"
            path.append(f"{command}{x + slot * 0.1:.1f} {expected_y}")
            path.append(f"L{x + slot * 0.9:.1f} {expected_y}")
        columns.append(
            PlacedColumn(
                item=item,
                x=round(x + slot * 0.2, 1),
                y=round(bottom - height, 1),
                width=round(slot * 0.6, 1),
                height=round(height, 1),
                label_x=round(x + slot / 2, 1),
                expected_y=expected_y,
            )
        )
    return ColumnChart(
        width=WIDTH,
        height=bottom + MARGIN_BOTTOM,
        plot_left=MARGIN_LEFT,
        plot_right=WIDTH - 10,
        plot_bottom=bottom,
        columns=tuple(columns),
        ticks=tuple(
            Tick(y=round(bottom - PLOT_HEIGHT * t / top, 1), label=_tick_label(t)) for t in ticks
        ),
        expected_path=" ".join(path),
    )


# --- Lines: cohorts side by side, month by month since each started ----------------------------


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[float | None, ...]  # one per x label; None: the cohort had not reached it


@dataclass(frozen=True)
class PlacedPoint:
    x: float
    y: float
    value: float


@dataclass(frozen=True)
class PlacedSeries:
    series: Series
    tone: int  # 1..SERIES_TONES
    path: str
    points: tuple[PlacedPoint, ...]


@dataclass(frozen=True)
class XLabel:
    x: float
    label: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_bottom: int
    x_labels: tuple[XLabel, ...]
    ticks: tuple[Tick, ...]
    series: tuple[PlacedSeries, ...] = field(default_factory=tuple)

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def line_chart(x_labels: Sequence[str], series: Sequence[Series]) -> LineChart:
    values = [v for s in series for v in s.values if v is not None]
    top, ticks = axis(max(values, default=0.0))
    bottom = MARGIN_TOP + PLOT_HEIGHT
    span = WIDTH - MARGIN_LEFT - 20
    step = span / max(len(x_labels) - 1, 1)

    def x_of(n: int) -> float:
        return round(MARGIN_LEFT + 10 + n * step, 1)

    placed = []
    for index, one in enumerate(series):
        points = []
        path: list[str] = []
        previous = None
        for n, value in enumerate(one.values):
            if value is None:
                previous = None
                continue
            point = PlacedPoint(
                x=x_of(n), y=round(bottom - PLOT_HEIGHT * value / top, 1), value=value
            )
            path.append(f"{'L' if previous is not None else 'M'}{point.x} {point.y}")
            points.append(point)
            previous = point
        placed.append(
            PlacedSeries(
                series=one,
                tone=index % SERIES_TONES + 1,
                path=" ".join(path),
                points=tuple(points),
            )
        )
    return LineChart(
        width=WIDTH,
        height=bottom + MARGIN_BOTTOM,
        plot_left=MARGIN_LEFT,
        plot_right=WIDTH - 10,
        plot_bottom=bottom,
        x_labels=tuple(XLabel(x=x_of(n), label=label) for n, label in enumerate(x_labels)),
        ticks=tuple(
            Tick(y=round(bottom - PLOT_HEIGHT * t / top, 1), label=_tick_label(t)) for t in ticks
        ),
        series=tuple(placed),
    )
