"""The dashboard's chart geometry (reports/charts.py) and how the pages write numbers."""

from django.utils import translation

from reports import charts
from reports.formatting import duration, percent


def test_axis_ends_on_round_steps():
    assert charts.axis_top(3, min_step=1) == 4
    assert charts.axis_top(2, min_step=1) == 4
    assert charts.axis_top(130) == 200
    assert charts.axis_top(0, min_step=1) == 4
    assert charts.axis_top(420, steps=charts.DURATION_STEPS) == 480  # 4 × 2 min


def test_line_chart_places_each_day_and_scales_from_zero():
    chart = charts.line_chart(labels=["a", "b", "c"], series=[
        charts.Series("received", "Received", [0, 4, 2]),
    ], width=120, height=100)

    # x from 44 to 108; y from 72 (zero) up to 12 (the axis top, 4).
    assert chart.series[0].points == "44.0,72.0 76.0,12.0 108.0,42.0"
    assert [t.text for t in chart.y_ticks] == ["0", "1", "2", "3", "4"]
    assert [t.text for t in chart.x_labels] == ["a", "b", "c"]


def test_line_chart_of_one_day_is_a_point_in_the_middle():
    chart = charts.line_chart(labels=["a"], series=[charts.Series("s", "S", [1])],
                              width=120, height=100)

    assert chart.series[0].points == "76.0,57.0"
    assert len(chart.series[0].markers) == 1


def test_bar_chart_leaves_out_what_cannot_be_measured():
    chart = charts.bar_chart(width=300, left=100, rows=[
        charts.BarRow("Ana", [charts.Bar("median", "Median", 50, "50"),
                              charts.Bar("p90", "p90", None, "—")]),
        charts.BarRow("Bia", [charts.Bar("median", "Median", 100, "100"),
                              charts.Bar("p90", "p90", 200, "200")]),
    ])

    ana, bia = chart.rows
    assert [b.width for b in ana.bars] == [30.0, 0]  # 120 px for 200
    assert [b.width for b in bia.bars] == [60.0, 120.0]
    assert bia.bars[0].y > ana.bars[1].y


def test_durations_and_shares_read_naturally():
    assert duration(None) == "—"
    assert duration(42) == "42 s"
    assert duration(300) == "5 min"
    assert duration(3900) == "1 h 05 min"
    assert duration(2 * 86400 + 3 * 3600) == "2 d 3 h"
    with translation.override("pt-br"):
        assert percent(2 / 3) == "66,7%"
    with translation.override("en"):
        assert percent(2 / 3) == "66.7%"
        assert percent(None) == "—"
