"""The figures of kantelmeter: every plot lives here.

Each function takes the tidy DataFrame that a statistics function returns,
draws on a matplotlib ``Axes`` (a new one when ``ax`` is None) and returns
that ``Axes`` (the forest plot: one per outcome, in a list). Nothing here calls ``plt.show()``, so the functions work on a
headless machine with the Agg backend, in notebooks and in the report.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from kantelmeter.errors import KantelmeterError

__all__ = [
    "PlotError",
    "actor_balance",
    "agreement",
    "forest",
    "growth_trajectories",
    "love",
    "monte_carlo_ratio",
    "number_axis",
    "population_by_age",
    "propensity_overlap",
    "radar",
    "team_composition",
    "tornado",
    "wave_heatmap",
    "wheel_improvements",
]

_TORNADO_LABELS = {
    "ratio": "benefit/cost ratio (euro back per euro invested)",
    "net_value": "net value (euro per year)",
}


class PlotError(KantelmeterError, ValueError):
    """Data a figure cannot be drawn from; the message names the column or value and what is allowed."""


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
        raise PlotError(f"tornado: outcome {outcome!r} is not allowed; allowed: {', '.join(_TORNADO_LABELS)}")
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


def monte_carlo_ratio(
    draws: pd.DataFrame,
    ax: Axes | None = None,
    bins: int = 50,
    label: str = "benefit/cost ratio (euro back per euro invested)",
) -> Axes:
    """Histogram of the benefit/cost ratio over Monte Carlo draws, with break-even and the 95% interval.

    The share of draws right of the break-even line (ratio 1) is the
    probability that the benefits cover the investments (Briggs et al. 2006,
    ch. 4); the dashed lines mark the 2.5th and 97.5th percentiles.

    Parameters
    ----------
    draws : pandas.DataFrame
        ``MonteCarloResult.draws`` of :func:`kantelmeter.costbenefit.monte_carlo`
        (a column ``ratio``).
    ax : matplotlib.axes.Axes, optional
    bins : int, default 50
    label : str
        Text of the x axis (the report's language).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from kantelmeter.costbenefit import load_radar_2012, monte_carlo
    >>> ax = monte_carlo_ratio(monte_carlo(load_radar_2012(), n=500, seed=3).draws)
    >>> [round(line.get_xdata()[0], 2) for line in ax.get_lines()][:1]
    [1.0]
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    ratio = draws["ratio"]
    ax.hist(ratio, bins=bins, color="#4c72b0", alpha=0.8)
    ax.axvline(1.0, color="black", linewidth=1.2)
    for quantile in (0.025, 0.975):
        ax.axvline(ratio.quantile(quantile), color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel(label)
    ax.set_ylabel("draws")
    return ax


def population_by_age(
    population: pd.DataFrame,
    years: tuple[int, ...],
    ax: Axes | None = None,
    label: str = "share of inhabitants (%)",
    lang: str = "en",
) -> Axes:
    """The share of each age group in two (or more) years, as bars side by side per age group.

    Percentages of each year's population, youngest group at the top, so that
    ageing shows as the later year's bars growing towards the bottom. The
    years stand side by side, not back to back: a mirrored chart reads as men
    against women.

    Parameters
    ----------
    population : pandas.DataFrame
        :func:`kantelmeter.municipal.population_by_age` (``year``,
        ``age_group``, ``age_from``, ``share_pct``).
    years : tuple of int
        The years to compare, earlier first.
    ax : matplotlib.axes.Axes, optional
    label : str
        Text of the x axis (the report's language).
    lang : {"nl", "en"}
        Language of the numbers on the axis.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from kantelmeter.municipal import population_by_age as figures
    >>> ax = population_by_age(figures(), (2006, 2013), lang="nl")
    >>> len(ax.patches), ax.get_yticklabels()[0].get_text(), bool(min(bar.get_width() for bar in ax.patches) > 0)
    (36, '85+', True)
    """
    import numpy as np

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 6))
    present = set(population["year"])
    missing = [year for year in years if year not in present]
    if missing:
        raise PlotError(
            f"population_by_age: year(s) {missing} not in the population table; "
            f"allowed: {', '.join(map(str, sorted(present)))}"
        )
    groups = population.drop_duplicates("age_group").sort_values("age_from", ascending=False)["age_group"].tolist()
    height = 0.8 / len(years)
    for k, (year, colour) in enumerate(zip(years, ("#9ab7d3", "#1f4e79", "#dd8452", "#55a868"))):
        share = population[population["year"] == year].set_index("age_group")["share_pct"].reindex(groups)
        ax.barh(
            np.arange(len(groups)) + (len(years) - 1 - k) * height, share, height=height, color=colour, label=str(year)
        )
    ax.set_yticks(np.arange(len(groups)) + height * (len(years) - 1) / 2, groups)
    ax.set_ylim(-0.5, len(groups) - 0.2)
    ax.set_xlabel(label)
    number_axis(ax, "x", lang=lang)
    ax.legend(loc="lower right", frameon=False)
    return ax


def number_axis(ax: Axes, axis: str = "x", decimals: int = 0, lang: str = "en") -> Axes:
    """Numbers on an axis in the report's language (``2,5`` in Dutch).

    Examples
    --------
    >>> _, ax = plt.subplots()
    >>> _ = ax.plot([0, 2.5], [0, 1])
    >>> number_axis(ax, "x", 1, "nl").xaxis.get_major_formatter()(2.5)
    '2,5'
    """
    from matplotlib.ticker import FuncFormatter

    from kantelmeter.formatting import number

    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(FuncFormatter(lambda value, _: number(value, decimals, lang)))
    return ax


_ATTRIBUTION_LEGEND = {
    "yes": "due to the support",
    "partly": "partly due to the support",
    "no": "not due to the support",
}


def wheel_improvements(
    summary: pd.DataFrame,
    labels: dict[str, str] | None = None,
    legend: dict[str, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Per wheel domain the number of people who improved, split by attribution.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`kantelmeter.wheel.summarise` without grouping (``domain``,
        ``improved_yes``, ``improved_partly``, ``improved_no``).
    labels : dict, optional
        Domain id to the text shown (for instance the section titles of the
        wheel instrument in the report's language).
    legend : dict, optional
        Attribution (``yes``, ``partly``, ``no``) to legend text.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from kantelmeter.wheel import summarise, thesis_changes
    >>> ax = wheel_improvements(summarise(thesis_changes()))
    >>> [round(bar.get_width()) for bar in ax.patches[:6]]  # attributed fully to the pilot
    [0, 3, 0, 2, 2, 0]
    """
    labels = labels or {}
    legend = {**_ATTRIBUTION_LEGEND, **(legend or {})}
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * len(summary) + 1.2))
    left = pd.Series(0.0, index=summary.index)
    for attribution, colour in (("yes", "#4c72b0"), ("partly", "#8fb0d9"), ("no", "#c8c8c8")):
        values = summary[f"improved_{attribution}"].astype(float)
        ax.barh(range(len(summary)), values, left=left, color=colour, label=legend[attribution])
        left += values
    ax.set_yticks(range(len(summary)), [labels.get(d, d) for d in summary["domain"]])
    ax.invert_yaxis()
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="lower right", frameon=False)
    return ax


def radar(
    profile: pd.DataFrame,
    value: str = "mean_before",
    by: str | None = "cohort",
    labels: dict[str, str] | None = None,
    limits: tuple[float, float] = (1, 5),
    ax: Axes | None = None,
) -> Axes:
    """Radar (spider) plot of the participation wheel: one polygon per group, one spoke per domain.

    Parameters
    ----------
    profile : pandas.DataFrame
        :func:`kantelmeter.wheel.profile` (``domain`` and ``value``, plus the
        grouping column ``by``).
    value : str, default "mean_before"
        The column drawn along the spokes (``mean_after`` for follow-up).
    by : str or None, default "cohort"
        One polygon per value of this column; None for a single polygon.
    labels : dict, optional
        Domain id to the text at the end of its spoke.
    limits : (float, float), default (1, 5)
        Range of the spokes (the wheel's levels 1-5).
    ax : matplotlib.axes.Axes, optional
        Must be a polar Axes; a new one when None.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> frame = pd.DataFrame({"cohort": ["pilot"] * 3 + ["regular"] * 3, "domain": ["a", "b", "c"] * 2,
    ...                       "mean_before": [2.0, 3.0, 4.0, 3.0, 3.0, 3.0]})
    >>> ax = radar(frame)
    >>> [line.get_label() for line in ax.get_lines()]
    ['pilot', 'regular']
    >>> ax.get_lines()[0].get_ydata().tolist()  # the polygon is closed
    [2.0, 3.0, 4.0, 2.0]
    """
    import numpy as np

    labels = labels or {}
    domains = list(dict.fromkeys(profile["domain"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6), subplot_kw={"projection": "polar"})
    angles = np.linspace(0, 2 * np.pi, len(domains), endpoint=False)
    closed = np.append(angles, angles[0])
    groups = [(None, profile)] if by is None else list(profile.groupby(by, sort=False))
    for group, rows in groups:
        values = rows.set_index("domain")[value].reindex(domains).to_numpy(dtype=float)
        ax.plot(closed, np.append(values, values[0]), linewidth=1.8, label=None if group is None else str(group))
        ax.fill(closed, np.append(values, values[0]), alpha=0.12)
    ax.set_xticks(angles, [labels.get(d, d) for d in domains])
    ax.set_ylim(*limits)
    if by is not None:
        ax.legend(loc="upper right", bbox_to_anchor=(1.25, 1.1), frameon=False)
    return ax


def agreement(
    indicators: pd.DataFrame,
    by: str = "cohort",
    labels: dict[str, str] | None = None,
    label: str = "% (fully) agree",
    ax: Axes | None = None,
) -> Axes:
    """Percentage who (fully) agree per statement, one bar per group, with its confidence interval.

    Parameters
    ----------
    indicators : pandas.DataFrame
        :func:`kantelmeter.ceo.indicators` (``item``, ``pct_agree``,
        ``ci_low``, ``ci_high`` and the grouping column ``by``). Filter it
        first: what is drawn is published.
    by : str, default "cohort"
    labels : dict, optional
        Item id to the text shown (the statement in the report's language).
    label : str
        Text of the x axis.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> table = pd.DataFrame({"item": ["a", "a", "b"], "cohort": ["pilot", "regular", "pilot"],
    ...                       "pct_agree": [80.0, 60.0, 50.0], "ci_low": [70.0, 50.0, 40.0],
    ...                       "ci_high": [88.0, 69.0, 60.0]})
    >>> ax = agreement(table)
    >>> [round(bar.get_width()) for bar in ax.patches]
    [80, 50, 60]
    """
    import numpy as np

    labels = labels or {}
    items = list(dict.fromkeys(indicators["item"]))
    groups = list(dict.fromkeys(indicators[by]))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.5 * len(items) * max(len(groups), 1) + 1.5))
    height = 0.8 / len(groups)
    for k, group in enumerate(groups):
        rows = indicators[indicators[by] == group].set_index("item").reindex(items)
        present = rows["pct_agree"].notna().to_numpy()
        y = np.arange(len(items))[present] + k * height
        values = rows["pct_agree"].to_numpy()[present]
        errors = np.vstack([values - rows["ci_low"].to_numpy()[present], rows["ci_high"].to_numpy()[present] - values])
        ax.barh(y, values, height=height, xerr=errors, capsize=2, label=str(group))
    ax.set_yticks(
        np.arange(len(items)) + height * (len(groups) - 1) / 2, [_wrap(labels.get(item, item)) for item in items]
    )
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(label)
    ax.legend(loc="lower right", frameon=False)
    return ax


def _wrap(text: str, width: int = 45) -> str:
    """Break a long statement over lines so that the tick labels stay narrow."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


# --- professionals over time (issue 7) ----------------------------------------


def growth_trajectories(
    data: pd.DataFrame,
    fit,
    by: str | None = None,
    at: dict | None = None,
    professional: str = "professional",
    points: int = 40,
    ax: Axes | None = None,
) -> Axes:
    """Each professional's trajectory, with the model's mean trajectory and its CI band per group.

    Thin lines are the observed scores of one professional over time; the
    thick line per group is the population-mean trajectory of the growth
    model and the band its confidence interval (:meth:`kantelmeter.longitudinal.GrowthFit.predict`:
    the uncertainty about the mean, not the spread between people; Singer &
    Willett 2003, *Applied Longitudinal Data Analysis*, ch. 4).

    Parameters
    ----------
    data : pandas.DataFrame
        The tidy panel the model was fitted on.
    fit : kantelmeter.longitudinal.GrowthFit
    by : str, optional
        A covariate of the model; one mean trajectory (and colour) per value.
    at : dict, optional
        Values of the model's other covariates at which the mean is drawn,
        for example ``{"team": 1, "end_announced": False}``.
    professional : str
    points : int
        Points along the time axis of each mean trajectory.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from kantelmeter.longitudinal import fit_growth
    >>> from kantelmeter.synth import professional_panel
    >>> data = professional_panel(seed=1).data
    >>> fit = fit_growth(data, "work_enjoyment", covariates=["role"], interactions=["months:role"])
    >>> ax = growth_trajectories(data, fit, by="role")
    >>> [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    ['service_provider', 'helper']
    """
    import numpy as np

    spec = fit.spec
    at = dict(at or {})
    needed = [
        c
        for c in dict.fromkeys(name.strip() for term in spec.covariates + spec.interactions for name in term.split(":"))
        if c != spec.time
    ]
    missing = [c for c in needed if c != by and c not in at]
    if missing:
        raise PlotError(
            f"growth_trajectories: the model uses {missing} besides {spec.time!r}; "
            f"give their values in at= (or draw them as by=); by={by!r}"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    groups = list(data[by].dropna().unique()) if by else [None]
    if by and isinstance(data[by].dtype, pd.CategoricalDtype):
        groups = [g for g in data[by].cat.categories if g in set(groups)]
    colours = dict(zip(groups, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4))
    for _, person in data.sort_values(spec.time).groupby(professional, observed=True):
        colour = colours[person[by].iloc[0]] if by else "grey"
        ax.plot(
            person[spec.time],
            person[spec.outcome],
            color=colour,
            alpha=0.25,
            linewidth=0.8,
            marker=".",
            label="_individual",
        )
    times = pd.Series(data[spec.time].dropna()).agg(["min", "max"])
    grid = pd.Series(np.linspace(times["min"], times["max"], points), name=spec.time)
    for group in groups:
        newdata = pd.DataFrame({spec.time: grid, **at, **({by: group} if by else {})})
        band = fit.predict(newdata)
        colour = colours[group] if by else "black"
        ax.fill_between(band[spec.time], band["ci_low"], band["ci_high"], color=colour, alpha=0.2, label="_band")
        ax.plot(
            band[spec.time], band["predicted"], color=colour, linewidth=2.5, label=str(group) if by else "model mean"
        )
    ax.set_xlabel(spec.time)
    ax.set_ylabel(spec.outcome)
    ax.legend(frameon=False, title=by)
    return ax


def wave_heatmap(data: pd.DataFrame, scales: list[str], wave: str = "wave", ax: Axes | None = None) -> Axes:
    """Mean score per scale (rows) and wave (columns), annotated, with the n per wave in the labels.

    Each cell is the plain mean of those who answered at that wave: in a panel
    whose members change, a change in a column can be a change in who
    answered (see :func:`kantelmeter.longitudinal.wave_changes` for changes
    within persons).

    Examples
    --------
    >>> from kantelmeter.synth import professional_panel
    >>> ax = wave_heatmap(professional_panel(seed=1).data, ["work_enjoyment", "autonomy"])
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['work_enjoyment', 'autonomy']
    """
    import seaborn as sns

    unknown = [c for c in [*scales, wave] if c not in data.columns]
    if unknown:
        raise PlotError(f"wave_heatmap: unknown column(s) {unknown}; the data has {list(data.columns)}")
    means = data.groupby(wave, observed=True)[scales].mean().T
    counts = data.groupby(wave, observed=True).size()
    means.columns = [f"{w}\n(n={counts[w]})" for w in means.columns]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * means.shape[1] + 2.5, 0.5 * len(scales) + 1.2))
    sns.heatmap(means, annot=True, fmt=".2f", cmap="viridis", cbar_kws={"label": "mean score"}, ax=ax)
    ax.set_xlabel(wave)
    ax.set_ylabel("")
    return ax


def team_composition(
    roster: pd.DataFrame,
    end: str | pd.Timestamp,
    waves: list | None = None,
    professional: str = "professional",
    team: str = "team",
    label: str | None = "function",
    ax: Axes | None = None,
) -> Axes:
    """Who was in which team when: one bar per professional from joining to leaving.

    A professional without a ``left`` date stays until ``end`` (the team's
    dissolution). Dotted vertical lines mark the wave dates.

    Examples
    --------
    >>> from kantelmeter.synth import professional_panel
    >>> panel = professional_panel(seed=1)
    >>> ax = team_composition(panel.roster, end=panel.truth.dissolved, waves=list(panel.truth.wave_dates))
    >>> len(ax.patches), len(ax.get_yticklabels())
    (18, 18)
    """
    unknown = [c for c in [professional, team, "joined", "left", *([label] if label else [])] if c not in roster]
    if unknown:
        raise PlotError(f"team_composition: unknown column(s) {unknown}; the roster has {list(roster.columns)}")
    rows = roster.sort_values([team, "joined", professional]).reset_index(drop=True)
    start = pd.to_datetime(rows["joined"])
    stop = pd.to_datetime(rows["left"]).fillna(pd.Timestamp(end))
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 1.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    teams = list(dict.fromkeys(rows[team]))
    for index, row in rows.iterrows():
        # a team coded 1/2 gets a word in the legend; a labelled team ("team 1") is shown as it is
        name = row[team] if isinstance(row[team], str) else f"team {row[team]}"
        ax.barh(
            index,
            stop[index] - start[index],
            left=start[index],
            color=colours[teams.index(row[team]) % 10],
            label=name if row[team] not in rows[team].iloc[:index].tolist() else "_",
        )
    names = rows[professional].astype(str) + (" (" + rows[label].astype(str) + ")" if label else "")
    ax.set_yticks(range(len(rows)), names)
    ax.invert_yaxis()
    for moment in waves or []:
        ax.axvline(pd.Timestamp(moment), color="grey", linestyle=":", linewidth=1)
    ax.legend(frameon=False, loc="lower left")
    return ax


def forest(comparison: pd.DataFrame, axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Forest plot of a cohort comparison: like with like, one panel per outcome.

    Each outcome gets its own panel with its own axis in the outcome's units
    (a well-being point and a SOC sum-score point are not the same size), and
    the table must hold one estimand only: an ATT, an ATE and a conditional
    contrast answer different questions and do not belong side by side.
    Within a panel, one point and interval per method; the doubly robust
    estimate (the headline) is drawn as a red diamond; the dotted line marks
    no difference.

    Parameters
    ----------
    comparison : pandas.DataFrame
        Rows of :func:`kantelmeter.effects.compare_cohorts` (``outcome``,
        ``method``, ``estimate``, ``ci_low``, ``ci_high`` and, when present,
        ``estimand``).
    axes : sequence of matplotlib.axes.Axes, optional
        One per outcome.

    Returns
    -------
    list of matplotlib.axes.Axes

    Raises
    ------
    PlotError
        When the rows hold more than one estimand, or ``axes`` has the wrong length.

    Examples
    --------
    >>> table = pd.DataFrame({"outcome": ["wellbeing"] * 2 + ["soc_total"], "method": ["ipw", "dr", "dr"],
    ...                       "estimand": "ATT", "estimate": [0.4, 0.8, 3.0], "ci_low": [0.0, 0.4, 1.0],
    ...                       "ci_high": [0.8, 1.2, 5.0]})
    >>> axes = forest(table)
    >>> [[label.get_text() for label in ax.get_yticklabels()] for ax in axes]
    [['ipw', 'dr'], ['dr']]
    """
    if "estimand" in comparison.columns and comparison["estimand"].nunique() > 1:
        raise PlotError(
            f"the rows hold several estimands ({', '.join(map(str, pd.unique(comparison['estimand'])))}); "
            "a forest plot sets like beside like: select the rows of one estimand"
        )
    outcomes = list(pd.unique(comparison["outcome"]))
    if axes is None:
        sizes = [int((comparison["outcome"] == outcome).sum()) for outcome in outcomes]
        _, axes = plt.subplots(
            len(outcomes),
            1,
            figsize=(7, 0.35 * sum(sizes) + 1.1 * len(outcomes)),
            gridspec_kw={"height_ratios": sizes},
            squeeze=False,
        )
        axes = list(axes[:, 0])
    elif len(axes) != len(outcomes):
        raise PlotError(f"got {len(axes)} axes for {len(outcomes)} outcomes; allowed: one axis per outcome")
    for ax, outcome in zip(axes, outcomes):
        _forest_panel(ax, comparison[comparison["outcome"] == outcome].reset_index(drop=True), outcome)
    estimand = comparison["estimand"].iloc[0] if "estimand" in comparison.columns else "difference"
    axes[-1].set_xlabel(f"pilot minus regular, in each outcome's units ({estimand})")
    return axes


def _forest_panel(ax: Axes, rows: pd.DataFrame, outcome: str) -> None:
    y = list(range(len(rows)))
    headline = (rows["method"] == "dr").to_numpy()
    ax.errorbar(
        rows["estimate"],
        y,
        xerr=[rows["estimate"] - rows["ci_low"], rows["ci_high"] - rows["estimate"]],
        fmt="none",
        ecolor="grey",
        capsize=2,
    )
    ax.scatter(rows["estimate"][~headline], [i for i in y if not headline[i]], color="#4c72b0", zorder=3)
    ax.scatter(
        rows["estimate"][headline],
        [i for i in y if headline[i]],
        color="#c44e52",
        marker="D",
        zorder=3,
        label="doubly robust (headline)",
    )
    ax.set_yticks(y, rows["method"].astype(str).tolist())
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.axvline(0, color="black", linestyle=":", linewidth=1)
    ax.set_title(str(outcome), loc="left", fontsize="medium")


def love(balance_table: pd.DataFrame, threshold: float = 0.1, ax: Axes | None = None) -> Axes:
    """Love plot: absolute standardised mean difference per covariate, before and after weighting.

    Points left of ``threshold`` (0.1, Austin 2009, *Stat Med* 28:3083-3107)
    count as balanced.

    Parameters
    ----------
    balance_table : pandas.DataFrame
        :func:`kantelmeter.effects.balance` (``covariate``, ``smd_before`` and
        optionally ``smd_after``).
    threshold : float, default 0.1
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> table = pd.DataFrame({"covariate": ["age", "complexity"], "smd_before": [-0.08, 0.6],
    ...                       "smd_after": [-0.05, -0.04]})
    >>> ax = love(table)
    >>> [round(float(x), 2) for x in ax.collections[0].get_offsets()[:, 0]]
    [0.08, 0.6]
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.35 * len(balance_table) + 1.2))
    y = list(range(len(balance_table)))
    ax.scatter(balance_table["smd_before"].abs(), y, color="#dd8452", label="before weighting")
    if "smd_after" in balance_table.columns:
        ax.scatter(balance_table["smd_after"].abs(), y, color="#4c72b0", marker="D", label="after weighting")
    ax.set_yticks(y, balance_table["covariate"])
    ax.invert_yaxis()
    ax.axvline(threshold, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("absolute standardised mean difference")
    ax.legend(loc="lower right", frameon=False)
    return ax


def propensity_overlap(cohorts, scores: pd.Series, bins: int = 20, ax: Axes | None = None) -> Axes:
    """Overlap of the cohorts' propensity scores: two histograms on one axis.

    Parameters
    ----------
    cohorts : kantelmeter.effects.Cohorts
        From :func:`kantelmeter.effects.prepare` (its ``frame["treated"]`` and labels).
    scores : pandas.Series
        :func:`kantelmeter.effects.propensity_scores`.
    bins : int, default 20
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from kantelmeter import synth
    >>> from kantelmeter.effects import prepare, propensity_scores
    >>> cohorts = prepare(synth.study(seed=1).outcomes, "wellbeing", covariates=["age", "complexity"])
    >>> ax = propensity_overlap(cohorts, propensity_scores(cohorts))
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['pilot', 'regular']
    """
    import numpy as np

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.2))
    treated = cohorts.frame["treated"].reindex(scores.index).to_numpy() == 1
    edges = np.linspace(0, 1, bins + 1)
    ax.hist(scores[treated], bins=edges, alpha=0.6, density=True, label=cohorts.treated_label)
    ax.hist(scores[~treated], bins=edges, alpha=0.6, density=True, label=cohorts.control_label)
    ax.set_xlabel("propensity score (probability of being in the pilot)")
    ax.set_ylabel("density")
    ax.legend(frameon=False)
    return ax


def actor_balance(
    actors: pd.DataFrame, simulated: pd.DataFrame | None = None, ax: Axes | None = None, lang: str = "nl"
) -> Axes:
    """Who pays and who gains: benefits and investments per actor, with the net value.

    One row per actor: a bar to the right for the present value of the
    benefits, a bar to the left for the investments, and a marker for the
    net value; with Monte Carlo results the marker carries the 2.5-97.5
    percentile interval of the net value (the uncertainty carried from the
    line-item ranges and measured effects).

    Parameters
    ----------
    actors : pandas.DataFrame
        :func:`kantelmeter.costbenefit.by_actor` (columns ``actor``,
        ``label``, ``pv_benefits``, ``pv_investments``, ``pv_net_value``).
    simulated : pandas.DataFrame, optional
        ``MonteCarloResult.actors`` (columns ``actor``, ``p2.5``, ``p97.5``).
    ax : matplotlib.axes.Axes, optional
    lang : {"nl", "en"}

    Examples
    --------
    >>> from kantelmeter.costbenefit import by_actor, load_radar_2012
    >>> ax = actor_balance(by_actor(load_radar_2012()))
    >>> [label.get_text() for label in ax.get_yticklabels()][-1]
    'alle partijen samen'
    """
    for column in ("actor", "label", "pv_benefits", "pv_investments", "pv_net_value"):
        if column not in actors.columns:
            raise PlotError(
                f"actor_balance: column {column!r} is missing; allowed: the table of kantelmeter.costbenefit.by_actor"
            )
    from kantelmeter.messages import section

    words = list(section("report.actor_balance", lang).values())
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.7 * len(actors) + 1.5))
    rows = range(len(actors))
    ax.barh(rows, actors["pv_benefits"], color="#55a868", height=0.6, label=words[0])
    ax.barh(rows, -actors["pv_investments"], color="#c44e52", height=0.6, label=words[1])
    net = actors["pv_net_value"].to_numpy()
    if simulated is not None:
        band = simulated.set_index("actor").reindex(actors["actor"])
        errors = [net - band["p2.5"].to_numpy(), band["p97.5"].to_numpy() - net]
        ax.errorbar(net, rows, xerr=errors, fmt="none", ecolor="black", capsize=4, linewidth=1)
    ax.scatter(net, rows, marker="D", color="black", zorder=3, label=words[2])
    ax.set_yticks(list(rows), actors["label"].tolist())
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.xaxis.set_major_formatter(lambda value, _: f"{value:,.0f}".replace(",", "."))
    ax.set_xlabel(words[3])
    ax.legend(loc="lower right", frameon=False)
    return ax
