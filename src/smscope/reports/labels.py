"""How the report's categories, durations and shares are named and coloured for people:
one place, so the charts, the HTML pages, the PDF and the emails agree.

Colours come from the Okabe–Ito palette, which stays distinguishable with the common
colour-vision deficiencies; every rendering also writes the category's name next to
its colour, so nothing is told by colour alone.
"""

from __future__ import annotations

from smscope.statuses import Category, Status

__all__ = ["CATEGORY_COLOURS", "CATEGORY_LABELS", "CATEGORY_ORDER", "STATS_CATEGORY",
           "category_colour", "duration_text", "share_text", "status_label"]

#: the categories of a report in the order they are shown (test sends are never counted)
CATEGORY_ORDER: tuple[str, ...] = (
    Category.DELIVERED.value, Category.PENDING.value, Category.SOFT_BOUNCE.value,
    Category.HARD_BOUNCE.value, Category.ERROR.value, Category.UNSUBSCRIBED.value,
    Category.NOT_SENT.value,
)

#: what people read for each category (CONTRACTS §5 names ``unsubscribed``
#: "blacklisted, not sent")
CATEGORY_LABELS: dict[str, str] = {
    Category.DELIVERED.value: "Delivered",
    Category.PENDING.value: "Pending",
    Category.SOFT_BOUNCE.value: "Soft bounces",
    Category.HARD_BOUNCE.value: "Hard bounces",
    Category.ERROR.value: "Errors",
    Category.UNSUBSCRIBED.value: "Blacklisted, not sent",
    Category.NOT_SENT.value: "Not sent",
}

CATEGORY_COLOURS: dict[str, str] = {
    Category.DELIVERED.value: "#009E73",    # bluish green
    Category.PENDING.value: "#56B4E9",      # sky blue
    Category.SOFT_BOUNCE.value: "#E69F00",  # orange
    Category.HARD_BOUNCE.value: "#D55E00",  # vermillion
    Category.ERROR.value: "#CC79A7",        # reddish purple
    Category.UNSUBSCRIBED.value: "#0072B2",  # blue
    Category.NOT_SENT.value: "#999999",     # grey
}

#: the category of each count of a statistics row (:func:`smscope.reports.stats.stats_row`)
STATS_CATEGORY: dict[str, str] = {
    "received": Category.DELIVERED.value,
    "pending": Category.PENDING.value,
    "soft_bounce": Category.SOFT_BOUNCE.value,
    "hard_bounce": Category.HARD_BOUNCE.value,
    "errors": Category.ERROR.value,
    "blacklisted": Category.UNSUBSCRIBED.value,
    "not_sent": Category.NOT_SENT.value,
}


def category_colour(category: str) -> str:
    """The colour of a category (grey for anything unknown)."""
    return CATEGORY_COLOURS.get(category, CATEGORY_COLOURS[Category.NOT_SENT.value])


def status_label(status: str) -> str:
    """The English label of a canonical status id (the id itself if unknown)."""
    try:
        return Status(status).label
    except ValueError:
        return status


_UNITS = ((86400, "d"), (3600, "h"), (60, "min"), (1, "s"))


def duration_text(seconds: int | None) -> str:
    """A delay for people: ``10 s``, ``5 min``, ``2 h``, ``3 d``; ``later`` for None
    (the open-ended last bucket of the delivery times)."""
    if seconds is None:
        return "later"
    for size, unit in _UNITS:
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def share_text(rate: float) -> str:
    """A rate in [0, 1] as a percentage with one decimal: ``81.2%``."""
    return f"{rate:.1%}"
