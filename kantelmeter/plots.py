"""The figures of kantelmeter: every plot lives here.

Each function takes the tidy DataFrame that a statistics function returns,
draws on a matplotlib ``Axes`` (a new one when ``ax`` is None) and returns
that ``Axes``. Nothing here calls ``plt.show()``, so the functions work on a
headless machine with the Agg backend, in notebooks and in the report.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

__all__ = ["tornado"]

_TORNADO_LABELS = {"ratio": "benefit/cost ratio (euro back per euro invested)",
                   "net_value": "net value (euro per year)"}


def tornado(sensitivity_table: pd.DataFrame, outcome: str = "ratio", ax: Axes | None = None) -> Axes:
    """Tornado plot of a one-way sensitivity analysis.

    One horizontal bar per line item spans the outcome from the item's low to
    its high end, drawn from the base case (Briggs, Claxton & Sculpher 2006,
    *Decision Modelling for Health Economic Evaluation*, ch. 5); the widest
    swing is on top. For the ratio a dotted line marks break-even (1.0).

    Parameters
    ----------
    sensitivity_table : pandas.DataFrame
        The result of :func:`kantelmeter.costbenefit.sensitivity`.
    outcome : {"ratio", "net_value"}
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from kantelmeter.costbenefit import load_radar_2012, sensitivity
    >>> ax = tornado(sensitivity(load_radar_2012()))
    >>> [label.get_text() for label in ax.get_yticklabels()][:2]
    ['municipality', 'less_search_time']
    >>> len(ax.patches)
    14
    """
    if outcome not in _TORNADO_LABELS:
        raise ValueError(f"tornado: outcome {outcome!r} is not allowed; allowed: {', '.join(_TORNADO_LABELS)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * sensitivity_table["item"].nunique() + 1.2))
    base = sensitivity_table[f"base_{outcome}"].iloc[0]
    items = list(dict.fromkeys(sensitivity_table["item"]))
    for bound, colour in (("low", "#4c72b0"), ("high", "#dd8452")):
        values = sensitivity_table[sensitivity_table["bound"] == bound].set_index("item")[outcome].reindex(items)
        ax.barh(range(len(items)), values - base, left=base, color=colour, label=f"item at its {bound} end")
    ax.set_yticks(range(len(items)), items)
    ax.invert_yaxis()
    ax.axvline(base, color="black", linewidth=1)
    if outcome == "ratio":
        ax.axvline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel(_TORNADO_LABELS[outcome])
    ax.legend(loc="lower right", frameon=False)
    return ax
