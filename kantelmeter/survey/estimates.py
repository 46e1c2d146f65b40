"""Design-based estimates: weighted means and proportions with Taylor-linearised standard errors.

The estimators are svy's (``Sample.estimation.mean`` and ``.prop``), which
reproduce R's survey package (Lumley 2004, 2010): for the api data,
``svymean(~api00, dstrat)`` gives 662.29 with SE 9.409 in both
(tests/test_survey.py). This module only puts a round's data into svy's
design and returns kantelmeter's tidy rows.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from kantelmeter.survey.design import WHOLE, Sample, SurveyError
from kantelmeter.survey.weights import Weights

__all__ = ["INTERVALS", "KINDS", "estimate"]

KINDS = ("mean", "proportion")
#: Interval methods for a proportion, with svy's name for each.
INTERVALS = {"logit": "logit", "korn-graubard": "beta"}
COLUMNS = ["outcome", "group", "estimate", "se", "ci_low", "ci_high", "n", "deff"]


def estimate(
    data: pd.DataFrame,
    weights: Weights | str,
    design: Sample | None = None,
    outcomes: list[str] | str = (),
    kind: str = "mean",
    by: str | None = None,
    interval: str = "logit",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Weighted estimates of means or proportions, one tidy row per outcome and group.

    Method: the Hajek (ratio) estimator sum w y / sum w with its
    Taylor-linearised variance for a stratified design without replacement,
    including the finite-population correction 1 - n_h / N_h (Särndal,
    Swensson & Wretman 1992, sec. 5.5 and 7.3; svy, as R survey's ``svymean``
    and ``svyby``). Missing outcome values are a domain: the rows stay in
    the design, so the SE of a subgroup counts the design as a whole.
    ``deff`` is the design effect against simple random sampling without
    replacement (R's ``deff=TRUE``), or with replacement when the population
    size is unknown (no ``design``; R's ``deff="replace"``). With :class:`Weights` the variance is
    that of the calibration estimator, as R's ``svymean`` on a design from
    ``calibrate()`` or ``rake()`` (Deville & Särndal 1992). A proportion's interval is the logit
    interval (R ``svyciprop(method="logit")``) or Korn & Graubard's
    (1998) beta interval (R ``svyciprop(method="beta")``), both with the
    design's degrees of freedom.

    Parameters
    ----------
    data : pandas.DataFrame
        The respondents: ``pseudonym`` and the outcome (and ``by``) columns;
        ``stratum`` is taken from ``design`` when absent.
    weights : Weights or str
        The result of :func:`kantelmeter.survey.calibrate`, or a column of
        ``data`` holding the weights.
    design : Sample, optional
        Gives strata and N_h; without it (and with a column of weights) the
        data are one stratum without finite-population correction.
    outcomes : list of str
    kind : {"mean", "proportion"}
        For a proportion an outcome holds 0/1 (or True/False); the estimate
        is the share of 1.
    by : str, optional
        A grouping column: one row per group (a domain estimate).
    interval : {"logit", "korn-graubard"}
        For proportions.
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        Columns ``outcome``, ``group`` (``"all"`` without ``by``),
        ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``n``, ``deff``.

    Examples
    --------
    >>> data = pd.DataFrame({"pseudonym": list("abcdef"), "w": [1, 1, 2, 2, 3, 3],
    ...                      "helped": [1, 0, 1, 1, 0, 1]})
    >>> row = estimate(data, "w", outcomes="helped", kind="proportion").iloc[0]
    >>> round(float(row.estimate), 4), int(row.n)
    (0.6667, 6)
    """
    import polars as pl
    import svy

    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    if kind not in KINDS:
        raise SurveyError(f"estimate: kind={kind!r}; allowed: {', '.join(KINDS)}")
    if interval not in INTERVALS:
        raise SurveyError(f"estimate: interval={interval!r}; allowed: {', '.join(INTERVALS)}")
    if not outcomes:
        raise SurveyError("estimate: no outcomes given; allowed: one or more columns of data")
    absent = [c for c in outcomes + ([by] if by else []) if c not in data.columns]
    if absent:
        raise SurveyError(
            f"estimate: column(s) {', '.join(absent)} not in the data; columns: {', '.join(map(str, data.columns))}"
        )
    frame = _design_frame(data, weights, design)
    for outcome in outcomes:
        values = pd.to_numeric(frame[outcome].astype("Float64"), errors="coerce")
        if kind == "proportion" and not values.dropna().isin([0, 1]).all():
            bad = values.dropna()[~values.dropna().isin([0, 1])].iloc[0]
            raise SurveyError(f"estimate: outcome {outcome!r} holds {float(bad)!r}; allowed for a proportion: 0 or 1")
        frame[outcome] = values.astype(float)
    if by:
        frame[by] = frame[by].astype(str).where(frame[by].notna())
    columns = outcomes + ([by] if by else [])
    if isinstance(weights, Weights):
        # The calibrated design itself, with the outcomes joined on: its calibration enters the SEs.
        joined = pl.from_pandas(frame[["pseudonym"] + columns].reset_index(drop=True), nan_to_null=True)
        base = weights.design.data.drop([c for c in columns if c in weights.design.data.columns])
        sample = weights.design.update_data(base.join(joined, on="pseudonym", how="left", maintain_order="left"))
    else:
        polars = pl.from_pandas(
            frame[["stratum", "population", "_weight"] + columns].reset_index(drop=True), nan_to_null=True
        )
        sample = svy.Sample(
            polars,
            svy.Design(
                stratum="stratum", wgt="_weight", pop_size="population" if frame["population"].notna().all() else None
            ),
        )
    # Without population sizes there is no without-replacement reference: compare with sampling with replacement.
    reference = "wor" if isinstance(weights, Weights) or frame["population"].notna().all() else "wr"
    alpha = 1 - confidence
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for outcome in outcomes:
            if kind == "mean":
                result = sample.estimation.mean(outcome, by=by, deff=reference, alpha=alpha, drop_nulls=True)
                table = result.to_polars().to_pandas()
            else:
                result = sample.estimation.prop(
                    outcome, by=by, deff=reference, alpha=alpha, drop_nulls=True, ci_method=INTERVALS[interval]
                )
                table = result.to_polars().to_pandas()
                table = table[table[outcome].astype(float) == 1].drop(columns=outcome)
            rows.append(
                pd.DataFrame(
                    {
                        "outcome": outcome,
                        "group": table[by] if by else WHOLE,
                        "estimate": table["est"],
                        "se": table["se"],
                        "ci_low": table["lci"],
                        "ci_high": table["uci"],
                        "n": table["n"],
                        "deff": table["deff"],
                    }
                )
            )
    result = pd.concat(rows, ignore_index=True)[COLUMNS]
    return _with_empty_groups(result, frame, outcomes, by, kind)


def _design_frame(data: pd.DataFrame, weights: Weights | str, design: Sample | None) -> pd.DataFrame:
    frame = data.copy()
    if isinstance(weights, Weights):
        if "pseudonym" not in frame:
            raise SurveyError("estimate: data lack a pseudonym column to join the weights on")
        twice = frame["pseudonym"][frame["pseudonym"].duplicated()]
        if len(twice):
            raise SurveyError(
                f"estimate: respondent {twice.iloc[0]!r} appears {int((frame.pseudonym == twice.iloc[0]).sum())} "
                "times; allowed: one row per respondent"
            )
        table = weights.weights[["pseudonym", "stratum", "weight"]].rename(columns={"weight": "_weight"})
        frame = frame.drop(columns=[c for c in ("stratum",) if c in frame]).merge(table, on="pseudonym", how="inner")
        if frame.empty:
            raise SurveyError("estimate: none of the data's pseudonyms has a weight; allowed: the round's respondents")
        population = weights.population
    else:
        if weights not in frame:
            raise SurveyError(f"estimate: weights column {weights!r} not in the data")
        frame["_weight"] = pd.to_numeric(frame[weights], errors="coerce")
        if design is not None and "stratum" not in frame:
            frame = frame.merge(design.units[["pseudonym", "stratum"]], on="pseudonym", how="left")
        if "stratum" not in frame:
            frame["stratum"] = WHOLE
        population = design.frame.population if design is not None else None
    bad = frame["_weight"].isna() | ~np.isfinite(frame["_weight"]) | (frame["_weight"] <= 0)
    if bad.any():
        raise SurveyError(f"estimate: {int(bad.sum())} row(s) without a positive weight; allowed: weights > 0")
    frame["population"] = frame["stratum"].map(population).astype(float) if population is not None else np.nan
    return frame


def _with_empty_groups(
    result: pd.DataFrame, frame: pd.DataFrame, outcomes: list[str], by: str | None, kind: str
) -> pd.DataFrame:
    """Groups in which everyone answered 0 (or 1) for a proportion, and groups with no valid answer, as rows too."""
    if kind != "proportion":
        return result
    groups = sorted(frame[by].dropna().unique()) if by else [WHOLE]
    rows = []
    for outcome in outcomes:
        for group in groups:
            found = result[(result["outcome"] == outcome) & (result["group"] == group)]
            if len(found):
                rows.append(found)
                continue
            within = frame if not by else frame[frame[by] == group]
            n = int(within[outcome].notna().sum())
            rows.append(
                pd.DataFrame(
                    [
                        {
                            "outcome": outcome,
                            "group": group,
                            "estimate": 0.0 if n else np.nan,
                            "se": 0.0 if n else np.nan,
                            "ci_low": np.nan,
                            "ci_high": np.nan,
                            "n": n,
                            "deff": np.nan,
                        }
                    ]
                )
            )
    return pd.concat(rows, ignore_index=True)[COLUMNS]
