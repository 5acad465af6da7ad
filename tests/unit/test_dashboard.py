"""The outcome dashboards show the released rows and nothing else.

Every test builds its own small release rows; none reads the demo's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

import pytest

from boldhub.hub.web.render import report_content
from boldhub.outcomes.charts import AREA_COLOUR, Point, Series, trend_chart, upset_chart
from boldhub.outcomes.dashboard import (
    DASHBOARD_CSS,
    PreviousRelease,
    ReleaseContext,
    read_rows,
    render_dashboard,
    render_index,
    render_release,
)
from boldhub.outcomes.tidy import MEASURE_HEADER, RATE_HEADER
from boldhub.safecsv import write_csv

AREA = "E08000025"
NAME = "Birmingham City Council"
IND = "homeless_probation_before"
MEASURE = "homeless_days_from_release"
QUARTERS = ("2024-Q1", "2024-Q2", "2024-Q3")


def _rate(
    area: str, ind: str, period: str, breakdown: str, category: str, *v: str
) -> dict[str, str]:
    return dict(zip(RATE_HEADER, (area, ind, period, breakdown, category, *v), strict=True))


def _measure(area: str, period: str, breakdown: str, category: str, *v: str) -> dict[str, str]:
    return dict(zip(MEASURE_HEADER, (area, MEASURE, period, breakdown, category, *v), strict=True))


def _area_rows(area: str = AREA) -> tuple[dict[str, str], ...]:
    # Distinctive figures, so that any number on the page can be traced to one row. The
    # 2024-Q2 quarter and the Unknown sex are withheld.
    return (
        _rate(area, IND, "All", "none", "All", "1235", "4565", "27.1"),
        _rate(area, IND, "All", "sex", "Female", "415", "1830", "22.7"),
        _rate(area, IND, "All", "sex", "Male", "815", "2730", "29.9"),
        _rate(area, IND, "All", "sex", "Unknown", "[c]", "[c]", ""),
        _rate(area, IND, "2024-Q1", "none", "All", "385", "1445", "26.6"),
        _rate(area, IND, "2024-Q2", "none", "All", "[c]", "1590", ""),
        _rate(area, IND, "2024-Q3", "none", "All", "445", "1530", "29.1"),
    )


def _national_rows() -> tuple[dict[str, str], ...]:
    n = "national"
    return (
        _rate(n, IND, "All", "none", "All", "2215", "9795", "22.6"),
        _rate(n, IND, "All", "sex", "Female", "705", "3905", "18.1"),
        _rate(n, IND, "All", "sex", "Male", "1505", "5880", "25.6"),
        _rate(n, IND, "All", "sex", "Unknown", "[c]", "[c]", ""),
        _rate(n, IND, "2024-Q1", "none", "All", "690", "3120", "22.1"),
        _rate(n, IND, "2024-Q2", "none", "All", "740", "3355", "22.1"),
        _rate(n, IND, "2024-Q3", "none", "All", "785", "3320", "23.6"),
        _rate(n, "dataset_overlaps", "All", "none", "All", "12705", "12705", "100.0"),
        _rate(n, "dataset_overlaps", "All", "combination", "homelessness", "2755", "12705", "21.7"),
        _rate(n, "dataset_overlaps", "All", "combination", "probation", "835", "12705", "6.6"),
        _rate(
            n,
            "dataset_overlaps",
            "All",
            "combination",
            "homelessness+probation",
            "[c]",
            "12705",
            "",
        ),
    )


def _measure_rows() -> tuple[dict[str, str], ...]:
    return (
        _measure(AREA, "All", "none", "All", "315", "40", "77", "108"),
        _measure(AREA, "2024-Q1", "none", "All", "105", "33", "71", "96"),
        _measure(AREA, "2024-Q2", "none", "All", "[c]", "[c]", "[c]", "[c]"),
    )


def _context(sample: bool = False) -> ReleaseContext:
    return ReleaseContext(
        run_id="run-x1",
        generated="7 December 2026",
        agreement_id="DSA-9",
        agreement_version=2,
        agreement_title="Test agreement",
        shared=(
            (AREA, NAME, "homelessness"),
            ("MOJ-PROBATION", "HM Prison and Probation", "probation"),
        ),
        approved_by=("A Checker", "B Checker"),
        sample=sample,
    )


def _page(sample: bool = False, previous: Sequence[PreviousRelease] = ()) -> str:
    return render_dashboard(
        AREA,
        NAME,
        _area_rows(),
        _measure_rows(),
        _national_rows(),
        (),
        _context(sample),
        previous=previous,
        csv_files=[f"{AREA}.csv", f"{AREA}-measures.csv"],
    )


@pytest.fixture(scope="module")
def page() -> str:
    return _page()


class _Tables(HTMLParser):
    """Each table's rows (cell texts), with the id of the section it is in."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._section = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section":
            self._section = found.get("id") or self._section
        elif tag == "table":
            self.tables.append((self._section, []))
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1][1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tables(html: str) -> list[tuple[str, list[list[str]]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def _section(html: str, section_id: str) -> str:
    found = re.search(rf'<section[^>]*\bid="{section_id}"', html)
    assert found is not None, section_id
    return html[found.start() : html.index("</section>", found.start())]


def test_every_table_row_is_a_released_row(page: str) -> None:
    table = next(rows for section, rows in _tables(page) if section == f"ind-{IND}")
    header, body = table[0], table[1:]
    assert header == ["Period", "Breakdown", "Category", "People", "Out of", "Percent"]
    assert len(body) == len(_area_rows())
    for cells, row in zip(body, _area_rows(), strict=True):
        assert cells[0] == row["period"]
        assert cells[2] == row["category"]
        # Counts may gain a thousands separator; nothing else may change.
        shown = [c.replace(",", "") for c in cells[3:]]
        assert shown == [row["people"], row["cohort"], row["percent"] or "–"]


def test_measure_table_shows_quartiles_as_released(page: str) -> None:
    table = next(rows for section, rows in _tables(page) if section == f"ind-{MEASURE}")
    body = [[c.replace(",", "") for c in cells[3:]] for cells in table[1:]]
    assert body == [[r["people"], r["p25"], r["median"], r["p75"]] for r in _measure_rows()]


def test_summary_numbers_all_come_from_the_rows(page: str) -> None:
    summary = re.sub(r"<[^>]+>", " ", _section(page, "summary"))
    released = {v for r in (*_area_rows(), *_measure_rows(), *_national_rows()) for v in r.values()}
    # Besides released figures the summary names the time windows and the disclosure
    # rule (from the context): nothing else.
    words = {"12", "3", "6", "10", "5"}
    for number in re.findall(r"\d[\d,]*(?:\.\d+)?", summary):
        assert number.replace(",", "") in released | words, number
    assert "1,235 (27.1%) had been under probation supervision" in summary
    assert "national benchmark: 22.6%" in summary


def test_withheld_headline_reads_naturally() -> None:
    rows = (_rate(AREA, IND, "All", "none", "All", "[c]", "4565", ""),)
    html = render_dashboard(AREA, NAME, rows, (), (), (), _context())
    summary = re.sub(r"<[^>]+>", " ", _section(html, "summary"))
    assert "[c] (fewer than 10, or withheld to protect a small number) had been" in summary


def test_withheld_point_shows_as_c_and_is_not_in_the_chart() -> None:
    area = Series(
        NAME,
        (Point("2024-Q1", "26.6"), Point("2024-Q2", None), Point("2024-Q3", "29.1")),
    )
    national = Series(
        "England",
        (Point("2024-Q1", "22.1"), Point("2024-Q2", "22.1"), Point("2024-Q3", "23.6")),
        national=True,
    )
    chart = trend_chart("t", [area, national], QUARTERS, "Quarter", "A chart")
    assert chart is not None
    mine = [d for d in chart.data if d["series"] == NAME]
    assert [d["quarter"] for d in mine] == ["2024-Q1", "2024-Q3"]
    assert chart.omitted == ((NAME, "2024-Q2"),)
    # Two separate runs: no line joins the quarters either side of the gap.
    assert len({d["run"] for d in mine}) == 2
    svg = str(chart.svg)
    symbols = re.search(r'<g class="mark-symbol role-mark[^>]*>(.*?)</g>', svg, re.S)
    assert symbols is not None
    assert symbols.group(1).count(f'fill="{AREA_COLOUR}"') == 2


def test_withheld_quarter_is_named_in_words(page: str) -> None:
    section = _section(page, f"ind-{IND}")
    assert "Not shown, because withheld ([c]), so left as gaps: " + NAME + ": 2024-Q2" in section
    table = next(rows for s, rows in _tables(page) if s == f"ind-{IND}")
    assert ["2024-Q2", "Everyone", "All", "[c]", "1,590", "–"] in table


def test_withheld_combination_has_no_column() -> None:
    combos = [Point("homelessness", "2755"), Point("homelessness+probation", None)]
    chart = upset_chart("u", combos, ["homelessness", "probation"], "An UpSet chart")
    assert chart is not None
    assert [d["combination"] for d in chart.data] == ["homelessness"]
    assert chart.omitted == (("", "homelessness+probation"),)


def test_breakdown_chart_is_svg_with_a_text_alternative(page: str) -> None:
    section = _section(page, f"ind-{IND}")
    figure = section[section.index("By sex") :]
    figure = figure[: figure.index("</figure>")]
    assert "<svg" in figure
    svg = figure[figure.index("<svg") :]
    opening = svg[: svg.index(">")]
    assert 'role="img"' in opening
    assert 'aria-label="Bar chart: ' in opening
    assert svg[svg.index(">") + 1 :].startswith("<title>Bar chart: ")


def test_no_script_no_external_resource_no_inline_style(page: str) -> None:
    index = render_index([("national", "England"), (AREA, NAME)], _context())
    for html in (page, index):
        assert "<script" not in html.lower()
        assert "http://" not in html and "https://" not in html
        assert "//" not in re.sub(r"/\*.*?\*/", "", html.replace("</", ""), flags=re.S)
        # A strict CSP (style-src 'self') drops style attributes: there are none, the
        # charts' SVG included.
        assert " style=" not in html


def test_same_rows_give_identical_pages(page: str) -> None:
    assert _page() == page


def test_sample_banner_only_on_a_sample() -> None:
    assert "Sample: not real data" in _page(sample=True)
    assert "Sample: not real data" in render_index([(AREA, NAME)], _context(sample=True))
    assert "Sample: not real data" not in _page()


@pytest.mark.parametrize(
    "section_id", ["summary", "indicators", "previous", "about", "glossary", "downloads"]
)
def test_sections_by_role(page: str, section_id: str) -> None:
    assert f'<section id="{section_id}"' in page
    assert f'href="#{section_id}"' in page


def test_glossary_explains_c(page: str) -> None:
    glossary = _section(page, "glossary")
    assert "<dl" in glossary
    term = re.search(r"<dt[^>]*>\[c\]</dt><dd>(.*?)</dd>", glossary)
    assert term is not None
    assert "withheld" in term.group(1) and "fewer than 10" in term.group(1)


def test_about_says_what_was_shared_and_who_approved(page: str) -> None:
    about = re.sub(r"\s+", " ", _section(page, "about"))
    assert "Test agreement (DSA-9, version 2)" in about
    assert "HM Prison and Probation" in about and "probation" in about
    assert "A Checker, B Checker" in about
    assert "rounded to the nearest 5" in about


def test_downloads_link_the_csv_files(page: str) -> None:
    downloads = _section(page, "downloads")
    assert f'href="{AREA}.csv"' in downloads
    assert f'href="{AREA}-measures.csv"' in downloads


def test_previous_release_headline_beside_this_one() -> None:
    earlier = PreviousRelease(
        "run-x0",
        "released 3 March 2026",
        (_rate(AREA, IND, "All", "none", "All", "1020", "3900", "26.2"),),
    )
    html = _page(previous=[earlier])
    table = next(rows for s, rows in _tables(html) if s == "previous")
    assert table[0] == ["Indicator", "released 3 March 2026", "This release"]
    row = next(r for r in table if r[1].startswith("1,020"))
    assert row[1:] == ["1,020 of 3,900 (26.2%)", "1,235 of 4,565 (27.1%)"]


def test_hub_frame_takes_title_and_main(page: str) -> None:
    title, body = report_content(page)
    assert title == f"{NAME}: linked outcomes dashboard"
    assert '<section id="summary"' in body and '<section id="downloads"' in body
    assert "<style" not in body
    # Every class the body uses is styled by the CSS the hub can serve.
    classes = {c for group in re.findall(r'class="([^"]+)"', body) for c in group.split()}
    ours = {c for c in classes if c.startswith("dash")}
    assert ours and all(f".{c}" in DASHBOARD_CSS for c in ours)


def test_no_rows_no_chart() -> None:
    html = render_dashboard(AREA, NAME, (), (), _national_rows(), (), _context())
    assert "<svg" not in html
    assert "This release has no figures for" in html


def test_read_rows_reads_what_the_release_wrote(tmp_path: Path) -> None:
    path = tmp_path / f"{AREA}.csv"
    rows = _area_rows()
    write_csv(path, RATE_HEADER, [list(r.values()) for r in rows])
    assert read_rows(path) == rows


def test_every_chart_spec_is_valid_vega_lite(monkeypatch: pytest.MonkeyPatch) -> None:
    # The charts skip Altair's schema check when drawing (it took 40% of the time); this
    # makes the check once, here, on every kind of chart a page draws.
    from altair.vegalite.v6.schema.core import Root

    import boldhub.outcomes.charts as charts

    specs: list[dict[str, object]] = []
    draw = charts.vlc.vegalite_to_svg

    def capture(spec: dict[str, object], **kw: object) -> str:
        specs.append(spec)
        return str(draw(spec, **kw))

    monkeypatch.setattr(charts.vlc, "vegalite_to_svg", capture)
    charts._svg.cache_clear()  # drawings kept from other tests would never reach capture
    _page()
    render_dashboard("national", "England", _national_rows(), (), (), (), _context())
    assert len(specs) >= 5
    for spec in specs:
        Root.validate(spec)


def test_indicators_without_rows_are_named_not_zero(page: str) -> None:
    missing = re.search(r'<p id="not-in-release">(.*?)</p>', page, re.S)
    assert missing is not None
    # A council's other indicators are named; another party's indicator is not.
    assert "Released from custody in the 3 months before applying" in missing.group(1)
    assert "treatment referral" not in missing.group(1)
    assert f'id="ind-{IND}"' in page and 'id="ind-homeless_release_before"' not in page


def test_render_release_writes_a_page_per_area_and_an_index(tmp_path: Path) -> None:
    release = tmp_path / "release"
    release.mkdir()
    write_csv(release / f"{AREA}.csv", RATE_HEADER, [list(r.values()) for r in _area_rows()])
    write_csv(
        release / f"{AREA}-measures.csv",
        MEASURE_HEADER,
        [list(r.values()) for r in _measure_rows()],
    )
    write_csv(release / "national.csv", RATE_HEADER, [list(r.values()) for r in _national_rows()])
    written = render_release(release, tmp_path / "out", _context(), {AREA: NAME})
    assert sorted(p.name for p in written) == [f"{AREA}.html", "index.html", "national.html"]
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    # The national dashboard first: it is everyone's benchmark.
    assert index.index('href="national.html"') < index.index(f'href="{AREA}.html"')
    page = (tmp_path / "out" / f"{AREA}.html").read_text(encoding="utf-8")
    assert f'href="{AREA}-measures.csv"' in page


def test_generated_ids_are_renamed_from_the_chart_key() -> None:
    from boldhub.outcomes.charts import _rename_ids

    svg = '<svg><clipPath id="clip7"><rect/></clipPath><g clip-path="url(#clip7)"/></svg>'
    assert _rename_ids(svg, "e08-trend") == (
        '<svg><clipPath id="e08-trend-1"><rect/></clipPath><g clip-path="url(#e08-trend-1)"/></svg>'
    )
