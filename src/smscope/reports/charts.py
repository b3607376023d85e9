"""The report's charts as SVG, drawn on the server: the same markup goes inline into the
web pages and into the PDF, needs no script, no network and no web font to be seen.

Why matplotlib (its SVG backend, through :class:`matplotlib.figure.Figure`, never
pyplot's global state):

* it is the most maintained plotting library of the Python world, with wheels for every
  platform and no service, CDN or JavaScript behind it; it draws offline by design;
* its SVG styles every element with presentation attributes (``style="fill: …"``) and no
  class selectors. That matters twice: WeasyPrint does not apply the HTML page's CSS to an
  inline ``<svg>`` and has had bugs with ``<style>`` elements inside one, and a chart
  inlined into a web page must not restyle the page around it. pygal, the other
  candidate, colours its charts through an embedded stylesheet keyed on a random id and
  points to its tooltip script on a CDN unless told otherwise;
* with ``svg.fonttype = none`` labels stay ``<text>``: selectable, read by screen
  readers, found by a PDF's text search, and drawn by WeasyPrint with the fonts of the
  page (DejaVu Sans, which matplotlib ships and measures its layout with);
* with ``svg.hashsalt`` and no date in the metadata, the same input gives the same bytes.

Each chart is post-processed here into markup fit for inlining: no XML prolog, no
metadata, no ``<style>``, a ``<title>`` and a ``<desc>`` that say what it shows in words
(with the numbers), ``role="img"``, and every id prefixed with the chart's id (only the
referenced ones are kept) so that several charts can share a page, and SVG 2's ``href``
instead of ``xlink:href``. The colours of the
categories are those of :mod:`smscope.reports.labels`, and every bar or slice is named in
text beside its colour.
"""

from __future__ import annotations

import io
import math
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from smscope.reports.labels import (
    CATEGORY_LABELS,
    CATEGORY_ORDER,
    STATS_CATEGORY,
    category_colour,
    duration_text,
    share_text,
)
from smscope.statuses import Status

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["categories_chart", "delivery_times_chart", "periods_chart", "statuses_chart"]

_SVG = "http://www.w3.org/2000/svg"
_XLINK = "http://www.w3.org/1999/xlink"

#: the width of every chart: the text width of an A4 page with the report's margins
WIDTH_INCHES = 6.5
_INK = "#1f2328"
_GRID = "#d0d7de"
_FONTS = "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, Arial, sans-serif"
_RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "text.color": _INK,
    "text.parse_math": False,  # a "$" in a label is a dollar, not TeX
    "axes.edgecolor": _GRID,
    "axes.labelcolor": _INK,
    "xtick.color": _INK,
    "ytick.color": _INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.facecolor": "white",
    "path.simplify": False,
}
# rcParams are global: two threads drawing at once must not mix their settings
_LOCK = threading.Lock()


@contextmanager
def _style(chart_id: str) -> Iterator[None]:
    import matplotlib

    settings: Any = {**_RC, "svg.hashsalt": chart_id}
    with _LOCK, matplotlib.rc_context(settings):
        yield


def _figure(height: float, *, constrained: bool = True) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    # room around the labels: another renderer's glyphs may come out a little wider
    layout = ConstrainedLayoutEngine(w_pad=6 / 72, h_pad=4 / 72) if constrained else None
    return Figure(figsize=(WIDTH_INCHES, height), layout=layout)


def _count(value: int, total: int) -> str:
    return f"{value:,} ({share_text(value / total if total else 0.0)})"


# -- the charts -------------------------------------------------------------------------


def statuses_chart(statuses: Mapping[str, int], *, chart_id: str = "chart-statuses") -> str:
    """Horizontal bars of the recipients by detailed status (the report's ``statuses``),
    grouped by category, the statuses that have none left out, each bar coloured by its
    category and labelled with its count and share."""
    shown = sorted((s for s in Status if s is not Status.TEST and statuses.get(s.value)),
                   key=lambda s: CATEGORY_ORDER.index(s.category.value))
    total = sum(v for k, v in statuses.items() if k != Status.TEST.value)
    title = "Recipients by detailed status"
    if not shown:
        return _empty(chart_id, title, "No recipients yet.")
    values = [statuses[s.value] for s in shown]
    desc = "; ".join(f"{s.label}: {_count(statuses[s.value], total)}" for s in shown) + "."
    with _style(chart_id):
        fig = _figure(0.45 + 0.27 * len(shown))
        ax = fig.add_subplot()
        rows = range(len(shown))
        ax.barh(rows, values, height=0.68,
                color=[category_colour(s.category.value) for s in shown])
        ax.set_yticks(rows, labels=[s.label for s in shown])
        ax.invert_yaxis()
        top = max(values)
        for row, value in zip(rows, values, strict=True):
            ax.text(value + top * 0.01, row, _count(value, total), va="center", fontsize=8)
        ax.set_xlim(0, top * 1.28)
        ax.xaxis.set_visible(False)
        ax.spines["bottom"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        return _svg(fig, chart_id, title, desc)


def categories_chart(counts: Mapping[str, int], *, chart_id: str = "chart-categories") -> str:
    """A donut of the recipients by category (the report's ``counts``) with a legend that
    names each category with its count and share."""
    shown = [c for c in CATEGORY_ORDER if counts.get(c)]
    total = sum(counts.get(c, 0) for c in CATEGORY_ORDER)
    title = "Recipients by category"
    if not shown:
        return _empty(chart_id, title, "No recipients yet.")
    lines = [f"{CATEGORY_LABELS[c]}: {_count(counts[c], total)}" for c in shown]
    with _style(chart_id):
        from matplotlib.patches import Patch

        fig = _figure(2.3, constrained=False)
        ax = fig.add_axes((0.0, 0.03, 0.36, 0.94))
        ax.pie([counts[c] for c in shown], colors=[category_colour(c) for c in shown],
               startangle=90, counterclock=False,
               wedgeprops={"width": 0.36, "edgecolor": "white", "linewidth": 1.2})
        ax.set_aspect("equal")
        ax.text(0, 0.1, f"{total:,}", ha="center", va="center", fontsize=13,
                fontweight="bold")
        ax.text(0, -0.2, "recipients", ha="center", va="center", fontsize=8)
        handles = [Patch(facecolor=category_colour(c), label=line)
                   for c, line in zip(shown, lines, strict=True)]
        fig.legend(handles=handles, loc="center left", bbox_to_anchor=(0.4, 0.5),
                   frameon=False, fontsize=9, handlelength=1.2, labelspacing=0.6)
        return _svg(fig, chart_id, title, "; ".join(lines) + ".")


#: the delays labelled on the delivery-time axis (the other bounds are points only)
_TIME_TICKS = (10, 60, 300, 1800, 3600, 21600, 86400, 259200)


def delivery_times_chart(curve: Sequence[Mapping[str, Any]], *,
                         chart_id: str = "chart-delivery-times") -> str:
    """The cumulative share of the received messages by time from their first submit to
    their receipt (the report's ``delivery_times``), on a logarithmic time axis labelled
    in seconds, minutes, hours and days."""
    title = "Delivery times: share of the received messages by time to receipt"
    total = curve[-1]["cumulative"] if curve else 0
    if not total:
        return _empty(chart_id, title, "No receipts yet.")
    bounds = [p["within_seconds"] for p in curve if p["within_seconds"] is not None]
    later = bounds[-1] * 3 if bounds else 1
    xs = [p["within_seconds"] if p["within_seconds"] is not None else later for p in curve]
    ys = [p["share"] * 100 for p in curve]
    desc = "; ".join(
        f"{share_text(p['share'])} within {duration_text(p['within_seconds'])}"
        if p["within_seconds"] is not None else "100% including the later ones"
        for p in curve) + "."
    with _style(chart_id):
        from matplotlib.ticker import NullLocator, PercentFormatter

        fig = _figure(2.5)
        ax = fig.add_subplot()
        colour = category_colour("delivered")
        ax.fill_between(xs, ys, color=colour, alpha=0.15, linewidth=0)
        ax.plot(xs, ys, color=colour, linewidth=1.8, marker="o", markersize=3)
        ax.set_xscale("log")
        ticks = [t for t in _TIME_TICKS if t <= bounds[-1]] + [later] if bounds else [later]
        ax.set_xticks(ticks, labels=[duration_text(t) if t != later else "later"
                                     for t in ticks])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlim(xs[0] * 0.8, later * 1.25)
        ax.set_ylim(0, 105)
        ax.yaxis.set_major_formatter(PercentFormatter(100))
        ax.grid(axis="y", color=_GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_xlabel("time from the first submit to the receipt (logarithmic scale)")
        ax.set_ylabel("received within")
        milestones = _milestones(curve)
        if milestones:
            ax.text(0.99, 0.06, milestones, transform=ax.transAxes, ha="right", fontsize=8.5,
                    bbox={"facecolor": "white", "edgecolor": _GRID, "boxstyle": "round,pad=0.4",
                          "linewidth": 0.6})
        return _svg(fig, chart_id, title, desc)


def _milestones(curve: Sequence[Mapping[str, Any]]) -> str:
    """``half within 30 s · 90% within 5 min``: when the curve crosses 50% and 90%."""
    parts = []
    for share, name in ((0.5, "half"), (0.9, "90%")):
        point = next((p for p in curve if p["within_seconds"] is not None
                      and p["share"] >= share), None)
        if point is not None:
            parts.append(f"{name} within {duration_text(point['within_seconds'])}")
    return " · ".join(parts)


def periods_chart(periods: Sequence[Mapping[str, Any]], *,
                  chart_id: str = "chart-periods") -> str:
    """Stacked bars of the messages of each period of a statistics document
    (:func:`smscope.reports.stats.statistics`'s ``periods``), one colour per category."""
    title = "Messages per period, by category"
    if not periods:
        return _empty(chart_id, title, "No period in this range.")
    names = [str(p["period"]) for p in periods]
    keys = [k for k in STATS_CATEGORY if any(p.get(k) for p in periods)]
    desc = " ".join(
        f"{p['period']}: {p.get('recipients', 0):,} messages"
        + "".join(f", {CATEGORY_LABELS[STATS_CATEGORY[k]].lower()} {p.get(k, 0):,}"
                  for k in keys if p.get(k)) + "."
        for p in periods)
    with _style(chart_id):
        from matplotlib.ticker import MaxNLocator

        fig = _figure(2.9)
        ax = fig.add_subplot()
        xs = list(range(len(periods)))
        bottom = [0] * len(periods)
        for key in keys:
            values = [int(p.get(key) or 0) for p in periods]
            category = STATS_CATEGORY[key]
            ax.bar(xs, values, bottom=bottom, width=0.72, color=category_colour(category),
                   label=CATEGORY_LABELS[category])
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        step = max(1, math.ceil(len(names) / 16))
        ax.set_xticks(xs[::step], labels=names[::step],
                      rotation=45 if len(names) > 6 else 0,
                      ha="right" if len(names) > 6 else "center")
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", color=_GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_ylabel("messages")
        if keys:
            fig.legend(loc="outside upper center", ncols=min(4, len(keys)), frameon=False,
                       handlelength=1.2)
        else:
            ax.set_ylim(0, 1)
            ax.text(0.5, 0.5, "No messages in this range", transform=ax.transAxes,
                    ha="center", va="center")
        return _svg(fig, chart_id, title, desc)


def _empty(chart_id: str, title: str, note: str) -> str:
    """A small chart that says there is nothing to draw yet."""
    with _style(chart_id):
        fig = _figure(0.6, constrained=False)
        fig.text(0.5, 0.5, note, ha="center", va="center", fontsize=10, color="#57606a")
        return _svg(fig, chart_id, title, note)


# -- from matplotlib's SVG document to inline markup ------------------------------------

_REF = re.compile(r"url\(#([^)]+)\)")
_SPACE = re.compile(r"\s+")
_HREFS = (f"{{{_XLINK}}}href", "href")
_DROPPED = (f"{{{_SVG}}}metadata", f"{{{_SVG}}}style")
#: the properties matplotlib writes in ``style`` that SVG also takes as attributes
_PRESENTATION = frozenset({
    "clip-path", "fill", "fill-opacity", "fill-rule", "font-family", "font-size",
    "font-style", "font-weight", "opacity", "stroke", "stroke-dasharray",
    "stroke-dashoffset", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
    "stroke-opacity", "stroke-width", "text-anchor",
})


def _svg(fig: Figure, chart_id: str, title: str, desc: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _inline(buffer.getvalue(), chart_id, title, desc)


def _inline(document: str, chart_id: str, title: str, desc: str) -> str:
    """matplotlib's SVG document as markup to put inside an HTML page (see the module's
    docstring): deterministic, accessible, with ids unique to ``chart_id``."""
    root = ET.fromstring(document)
    _drop_extras(root)
    used = _referenced(root)
    for element in root.iter():
        old = element.attrib.pop("id", None)
        if old in used:
            element.set("id", f"{chart_id}-{old}")
        for name, value in list(element.attrib.items()):
            if name in _HREFS and value.startswith("#"):
                # SVG 2's plain href: no xlink namespace to declare or to register
                del element.attrib[name]
                element.set("href", f"#{chart_id}-{value[1:]}")
            elif name == "d":
                element.set(name, _SPACE.sub(" ", value).strip())
            elif name == "style":
                del element.attrib[name]
                _set_presentation(element, value)
        for name, value in list(element.attrib.items()):
            if "url(#" in value:
                element.set(name, _REF.sub(lambda m: f"url(#{chart_id}-{m[1]})", value))
    heading = ET.Element(f"{{{_SVG}}}title", {"id": f"{chart_id}-title"})
    heading.text = title
    summary = ET.Element(f"{{{_SVG}}}desc", {"id": f"{chart_id}-desc"})
    summary.text = desc
    root.insert(0, summary)
    root.insert(0, heading)
    root.attrib.pop("version", None)
    root.attrib.update({"id": chart_id, "class": "chart", "role": "img",
                        "aria-labelledby": f"{chart_id}-title {chart_id}-desc"})
    # plain tag names and an xmlns attribute rather than ElementTree's namespace
    # registry, which is global and which other libraries (WeasyPrint's PDF metadata)
    # change under our feet
    for element in root.iter():
        element.tag = element.tag.removeprefix(f"{{{_SVG}}}")
    root.set("xmlns", _SVG)
    return ET.tostring(root, encoding="unicode")


def _referenced(root: ET.Element) -> set[str]:
    """The ids something points to: ``url(#id)`` in an attribute, or ``href="#id"``."""
    used: set[str] = set()
    for element in root.iter():
        for name, value in element.attrib.items():
            used.update(_REF.findall(value))
            if name in _HREFS and value.startswith("#"):
                used.add(value[1:])
    return used


def _drop_extras(root: ET.Element) -> None:
    """Remove the metadata, the stylesheet (a page-wide ``*`` rule once inlined) and the
    ``<defs>`` left empty."""
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in _DROPPED:
                parent.remove(child)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == f"{{{_SVG}}}defs" and not len(child):
                parent.remove(child)


def _set_presentation(element: ET.Element, style: str) -> None:
    """Move ``style`` declarations to presentation attributes: nothing for a page's CSS
    parser to warn about, nothing a Content-Security-Policy without inline styles
    blocks; what has no attribute form stays in ``style``."""
    rest = []
    for declaration in style.split(";"):
        name, _, value = (part.strip() for part in declaration.partition(":"))
        if not name:
            continue
        if name == "font-family" and value == "'DejaVu Sans'":
            value = _FONTS  # the same face where installed, a close one elsewhere
        if name in _PRESENTATION:
            element.set(name, value)
        else:
            rest.append(f"{name}: {value}")
    if rest:
        element.set("style", "; ".join(rest))
