"""The charts' geometry (reports.charts): plain data in, shapes out, so a chart says what its
table says."""

from __future__ import annotations

import pytest

from reports.charts import (
    BarItem,
    ColumnItem,
    Series,
    axis,
    column_chart,
    hbar_chart,
    line_chart,
    nice_ceiling,
)


@pytest.mark.parametrize(
    ("value", "top", "ticks"),
    [
        (0, 0.25, [0, 0.25]),
        (0.67, 0.8, [0, 0.2, 0.4, 0.6, 0.8]),
        (2.2, 3, [0, 1, 2, 3]),
        (17, 20, [0, 5, 10, 15, 20]),
        (151, 200, [0, 50, 100, 150, 200]),
    ],
)
def test_it_puts_round_ticks_on_an_axis_that_covers_the_values(value, top, ticks):
    got_top, got_ticks = axis(value)

    assert got_top == pytest.approx(top)
    assert got_ticks == pytest.approx(ticks)


def test_it_rounds_up_to_one_two_two_and_a_half_or_five():
    assert [nice_ceiling(v) for v in (0.3, 1.2, 2.1, 4, 7)] == [0.5, 2, 2.5, 5, 10]


def test_it_draws_bars_in_proportion_with_room_for_labels_and_figures():
    chart = hbar_chart(
        [
            BarItem(label="Invited", value=40, display="40"),
            BarItem(label="Matched", value=10, display="10 (25%)"),
            BarItem(label="Completed", value=0, display="0"),
            BarItem(label="Held back", value=None, display="shown from 3 answers"),
        ]
    )

    invited, matched, completed, held_back = chart.bars
    assert invited.width == pytest.approx(4 * matched.width)
    assert completed.width == held_back.width == 0
    assert invited.width + chart.label_width <= chart.width - 90
    assert [bar.y for bar in chart.bars] == sorted(bar.y for bar in chart.bars)
    assert chart.height == 4 * 30


def test_it_scales_bars_to_a_given_maximum():
    chart = hbar_chart([BarItem(label="Useful", value=2.5, display="2.5 of 5")], maximum=5)

    (bar,) = chart.bars
    assert bar.width == pytest.approx((chart.width - chart.label_width - 100) / 2)


def test_it_marks_the_expected_level_across_each_month():
    chart = column_chart(
        [
            ColumnItem(label="Jan", value=1.0, display="1.00", expected=2.0),
            ColumnItem(label="Feb", value=None, display="—"),
            ColumnItem(label="Mar", value=3.0, display="3.00", expected=2.0),
        ]
    )

    jan, feb, mar = chart.columns
    assert mar.height == pytest.approx(3 * jan.height)
    assert feb.height == 0
    assert jan.expected_y == mar.expected_y
    assert jan.expected_y is not None
    assert jan.y > jan.expected_y > mar.y  # below the cadence in January, above in March
    # The dashed line breaks where no month expects anything.
    assert chart.expected_path.count("M") == 2
    assert chart.ticks[-1].label == "3"


def test_it_draws_each_cohort_as_its_own_line_with_gaps_where_it_had_not_run():
    chart = line_chart(
        ["M1", "M2", "M3"],
        [
            Series(label="Spring", values=(1.0, 2.0, None)),
            Series(label="Autumn", values=(None, 0.5, 1.5)),
        ],
    )

    spring, autumn = chart.series
    assert (spring.tone, autumn.tone) == (1, 2)
    assert len(spring.points) == 2
    assert spring.path.startswith("M")
    assert spring.path.count("L") == 1
    assert autumn.points[0].x == spring.points[1].x  # month 2 lines up
    assert [label.label for label in chart.x_labels] == ["M1", "M2", "M3"]
