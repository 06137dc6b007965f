"""Server-drawn charts: readable ticks, labelled axes, legends that fit, escaped labels."""

from __future__ import annotations

import html
import importlib.util
import itertools
import re
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit

PLUGIN = Path(__file__).resolve().parents[1] / "datasette" / "plugins" / "pages_charts.py"


@pytest.fixture(scope="module")
def charts() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mw_test_charts", PLUGIN)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def texts(svg: str) -> list[tuple[float, float, str]]:
    """(x, y, text) of every <text> element."""
    return [(float(x), float(y), t) for x, y, t in re.findall(
        r'<text x="([\d.-]+)" y="([\d.-]+)"[^>]*>([^<]*)</text>', svg)]


def test_line_chart_ticks_axes_legend_and_escaping(charts: ModuleType) -> None:
    months = [f"{2016 + i // 12}-{i % 12 + 1:02d}" for i in range(120)]
    lines = [charts.Line(name, [float((i * (k + 3)) % 7) for i in range(120)], style=k,
                         hrefs=[f"/search?q=x&i={i}" for i in range(120)])
             for k, name in enumerate(["Artsakh", "Нагорный Карабах", "<b>x</b>",
                                       "a very long query name that takes room"])]
    svg = str(charts.line_chart(months, lines, "Attention <script>", "month of publication",
                                "matching articles"))
    labels = texts(svg)
    x_ticks = sorted(x for x, _, t in labels if t in months)
    assert len(x_ticks) >= 6 and all(b - a >= 62 for a, b in itertools.pairwise(x_ticks))
    y_ticks = [t for _, _, t in labels if re.fullmatch(r"[\d,.]+", t)]
    assert y_ticks and all("." not in t for t in y_ticks)  # counts: whole numbers only
    assert max(int(t) for t in y_ticks) >= 6
    assert {"month of publication", "matching articles"} <= {t for *_, t in labels}
    legend = [(x, y) for x, y, t in labels if t in ("Artsakh", "Нагорный Карабах",
                                                    "&lt;b&gt;x&lt;/b&gt;",
                                                    "a very long query name that takes room")]
    assert len(legend) == 4 and all(x < 760 for x, _ in legend)
    rows = {}
    for x, y in legend:
        rows.setdefault(y, []).append(x)
    assert all(b - a > 60 for xs in rows.values() for a, b in itertools.pairwise(sorted(xs)))
    assert "<script>" not in svg and "<b>x</b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    assert svg.count('<a class="mw-point"') == 480 and 'fill="#fff"' in svg  # links; background
    assert len(set(re.findall(r'stroke="(#[0-9A-Fa-f]{6})" stroke-width="2" stroke-dasharray='
                              r'"([^"]*)" points', svg))) == 4  # colour and dash per query


def test_share_ticks_and_week_strip_years_never_overlap(charts: ModuleType) -> None:
    svg = str(charts.line_chart(["2024-01", "2024-02"], [charts.Line("q", [0.004, 0.031])],
                                "s", "month", "share", percent=True))
    assert [t for _, _, t in texts(svg) if t.endswith("%")] == ["0%", "1.0%", "2.0%", "3.0%",
                                                                 "4.0%"]
    start = date(2019, 12, 23)  # one week before a new year: two year labels 1 px apart
    weeks = {"Outlet": {start + timedelta(days=7 * i): 1 for i in range(60)}}
    years = [x for x, _, t in texts(str(charts.week_strip(weeks, "w"))) if t.isdigit()]
    assert len(years) == 2 and years[1] - years[0] >= 40  # 2019 dropped, 2020 and 2021 kept


def test_long_outlet_names_fit_left_of_their_rows(charts: ModuleType) -> None:
    long = "Федеральный вестник <i>(fixture)</i> — государственное агентство"
    names = ["Yerevan Dispatch", long]
    strip = str(charts.week_strip({n: {date(2024, 5, 6): 1} for n in names}, "weeks"))
    rows = str(charts.stacked_rows({n: {"ok": 3, "dropped": 1} for n in names}, "outcomes"))
    for svg in (strip, rows):
        shown = re.findall(r'text-anchor="end"><title>([^<]*)</title>([^<]*)</text>', svg)
        assert [full for full, _ in shown] == ["Yerevan Dispatch", long.replace("<", "&lt;")
                                               .replace(">", "&gt;")]
        # at 12 px a name of 24 characters stays inside the 184 px margin; the whole name
        # is the tooltip (it ran past the chart's left edge before)
        assert shown[0][1] == "Yerevan Dispatch"
        assert shown[1][1].endswith("…")
        assert len(html.unescape(shown[1][1])) <= charts.ROW_LABEL_CHARS
        assert "<i>" not in svg


def test_an_outlets_volume_chart_shows_the_months_it_published_nothing() -> None:
    spec = importlib.util.spec_from_file_location(
        "mw_test_pages_outlets", PLUGIN.with_name("pages_outlets.py"))
    assert spec and spec.loader
    pages = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pages)
    # Bars for the months with articles only put November and February side by side.
    periods, counts = pages.calendar_series([("2023-11", 2, 1), ("2024-02", 3, 0)])
    assert periods == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert counts == [(2, 1), (0, 0), (0, 0), (3, 0)]
    # Fifteen years are drawn per year; undated rows and nothing at all are no bars.
    periods, counts = pages.calendar_series([("2010-01", 2, 1), ("2010-07", 1, 1),
                                             ("2024-02", 3, 0), (None, 9, 9)])
    assert periods[0] == "2010" and periods[-1] == "2024" and len(periods) == 15
    assert counts[0] == (3, 2) and counts[1] == (0, 0) and counts[-1] == (3, 0)
    assert pages.calendar_series([]) == ([], [])
