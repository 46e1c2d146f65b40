"""Professionals over time: growth models on an unbalanced panel.

The professional questionnaire is asked at repeated waves while people join
and leave the team, so the panel is unbalanced: some professionals answer
once, some five times. A linear mixed (multilevel) growth model uses every
answer: each professional has an own intercept and, on request, an own slope
around the population's trajectory (Singer & Willett 2003, *Applied
Longitudinal Data Analysis*, Oxford University Press, ch. 3-5; Raudenbush &
Bryk 2002, *Hierarchical Linear Models*, 2nd ed., Sage, ch. 6). Under
maximum likelihood a professional with a single wave still informs the
intercepts and the covariates, and estimates stay unbiased when dropping out
depends on earlier observed answers (missing at random).

:func:`fit_growth` fits the model with statsmodels' ``MixedLM`` and returns a
:class:`GrowthFit`; :func:`compare_growth` compares nested fits by a
likelihood-ratio test and AIC. Two descriptive companions need no model:
:func:`wave_changes` (change between consecutive waves among those present at
both) and :func:`leavers_vs_stayers` (those who left before the end compared
with those who stayed, at the leavers' last wave).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.regression.mixed_linear_model import MixedLMResults
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from kantelmeter import _stats
from kantelmeter.contract import DAYS_PER_MONTH
from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import Instrument, ItemType
from kantelmeter.scoring import score

__all__ = [
    "GrowthFit",
    "LongitudinalError",
    "compare_growth",
    "fit_growth",
    "leavers_vs_stayers",
    "panel_from_responses",
    "wave_changes",
]

#: Fewest professionals a growth model is fitted on: with fewer, the
#: between-person variance has (almost) no degrees of freedom.
MIN_PROFESSIONALS = 5

# Optimisers run on every fit, and the gradient-free fallback (last).
_OPTIMISERS = ("bfgs", "lbfgs", "powell")


class LongitudinalError(KantelmeterError, ValueError):
    """Input a longitudinal analysis cannot use: the message names the column, value and what is allowed."""


@dataclass(frozen=True)
class _Spec:
    """What was asked for, kept so that a fit can be refitted by ML for comparison."""

    outcome: str
    time: str
    covariates: tuple[str, ...]
    interactions: tuple[str, ...]
    random_slope: bool
    professional: str

    @property
    def formula(self) -> str:
        return " + ".join([f"{self.outcome} ~ {self.time}", *self.covariates, *self.interactions])

    @property
    def re_formula(self) -> str:
        return f"~{self.time}" if self.random_slope else "~1"


@dataclass
class GrowthFit:
    """A fitted growth model: fixed effects, variance components, trajectories.

    Made by :func:`fit_growth`; not constructed directly.

    Attributes
    ----------
    params : pandas.Series
        The fixed effects (population intercept, slope, covariate effects).
    icc : float
        Intraclass correlation of the outcome from the unconditional
        random-intercept model ``outcome ~ 1 + (1 | professional)`` on the
        same rows: between-professional variance over total variance
        (Singer & Willett 2003, sect. 4.4; Raudenbush & Bryk 2002, eq. 4.5).
        It is taken from that model, not from the growth model, because with
        a random slope the share of variance between people changes with time.
    n_obs, n_professionals : int
        Answers and professionals the model used; ``single_wave`` of those
        professionals answered once and still count.
    converged : bool
        Whether the optimiser converged.
    warnings : list of str
        What the optimiser reported, for instance that the estimate lies on
        the boundary (a variance near zero, common for a random slope in a
        small team): compare with ``random_slope=False`` before trusting a
        random slope then.
    """

    spec: _Spec
    data: pd.DataFrame
    result: MixedLMResults
    fe_cov: np.ndarray
    icc: float
    single_wave: int
    converged: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def reml(self) -> bool:
        return bool(self.result.reml)

    @property
    def formula(self) -> str:
        """The fixed part as a Wilkinson-Rogers formula; the random part is ``(1 + time | professional)``."""
        return self.spec.formula

    @property
    def params(self) -> pd.Series:
        return self.result.fe_params

    @property
    def n_obs(self) -> int:
        return int(self.result.nobs)

    @property
    def n_professionals(self) -> int:
        return len(self.result.model.group_labels)

    @property
    def random_effects_cov(self) -> pd.DataFrame:
        """Covariance of the professional-level intercepts (and slopes)."""
        cov = self.result.cov_re.copy()
        names = ["intercept", self.spec.time][: len(cov)]
        cov.index, cov.columns = names, names
        return cov

    @property
    def residual_variance(self) -> float:
        return float(self.result.scale)

    def _fe_cov(self) -> np.ndarray:
        return self.fe_cov

    def conf_int(self, confidence: float = 0.95) -> pd.DataFrame:
        """Wald confidence intervals of the fixed effects (columns ``ci_low``, ``ci_high``).

        The standard errors come from ``(X' V^-1 X)^-1`` at the estimated
        variance components, the generalised-least-squares covariance that
        nlme and lme4 report (Pinheiro & Bates 2000, sect. 2.2); unlike the
        inverse Hessian it stays positive definite when a variance sits on
        its boundary. The normal approximation is somewhat too narrow with
        few professionals (Kenward & Roger 1997, *Biometrics* 53, 983).
        """
        low, high, _ = _stats.wald_interval(self.params.to_numpy(), np.sqrt(np.diag(self.fe_cov)), confidence)
        return pd.DataFrame({"ci_low": low, "ci_high": high}, index=self.params.index)

    def summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """One row per estimate: fixed effects with se, z, p and CI, then the variance components.

        Examples
        --------
        >>> from kantelmeter.synth import professional_panel
        >>> fit = fit_growth(professional_panel(seed=1).data, "work_enjoyment")
        >>> fit.summary()[["term", "kind"]].head(3).to_dict("list")
        {'term': ['Intercept', 'months', 'var(intercept)'], 'kind': ['fixed', 'fixed', 'variance']}
        """
        estimate, se = self.params.to_numpy(), np.sqrt(np.diag(self.fe_cov))
        low, high, p = _stats.wald_interval(estimate, se, confidence)
        fixed = pd.DataFrame(
            {
                "term": self.params.index,
                "kind": "fixed",
                "estimate": estimate,
                "se": se,
                "z": estimate / se,
                "p": p,
                "ci_low": low,
                "ci_high": high,
            }
        )
        cov = self.random_effects_cov
        variance = [(f"var({name})", cov.loc[name, name]) for name in cov.index]
        if len(cov) == 2:
            variance.append((f"cov(intercept, {self.spec.time})", cov.iloc[0, 1]))
        variance.append(("var(residual)", self.residual_variance))
        components = pd.DataFrame(
            {"term": [t for t, _ in variance], "kind": "variance", "estimate": [float(v) for _, v in variance]}
        )
        return pd.concat([fixed, components], ignore_index=True)

    def combine(self, weights: dict[str, float], confidence: float = 0.95) -> pd.DataFrame:
        """A linear combination of fixed effects with its Wald CI.

        The slope of one group is often a sum of terms (the main slope plus an
        interaction); its variance is ``w' V w`` with ``V`` the fixed-effects
        covariance.

        Examples
        --------
        >>> from kantelmeter.synth import professional_panel
        >>> fit = fit_growth(professional_panel(seed=1).data, "work_enjoyment", covariates=["role"],
        ...                  interactions=["months:role"])
        >>> row = fit.combine({"months": 1, "months:role[T.helper]": 1})
        >>> list(row.columns)
        ['estimate', 'se', 'z', 'p', 'ci_low', 'ci_high']
        """
        unknown = sorted(set(weights) - set(self.params.index))
        if unknown:
            raise LongitudinalError(f"combine: unknown term(s) {unknown}; terms: {', '.join(self.params.index)}")
        w = self.params.index.map(lambda term: weights.get(term, 0.0)).to_numpy(dtype=float)
        estimate = float(w @ self.params.to_numpy())
        se = float(np.sqrt(w @ self._fe_cov() @ w))
        return _wald_row(estimate, se, confidence)

    def predict(self, newdata: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
        """The population-mean trajectory at the rows of ``newdata``, with a CI band.

        The mean is ``X b`` from the fixed effects only (a professional's own
        random effects are left out: this is the trajectory of the average
        professional with these covariates); the band is ``X b +/- z sqrt(diag(X V X'))``
        with ``V`` the covariance of the fixed effects, so it expresses
        uncertainty about the mean, not the spread between people.

        Returns ``newdata`` with columns ``predicted``, ``se``, ``ci_low``, ``ci_high`` added.

        Examples
        --------
        >>> import pandas as pd
        >>> from kantelmeter.synth import professional_panel
        >>> fit = fit_growth(professional_panel(seed=1).data, "work_enjoyment")
        >>> band = fit.predict(pd.DataFrame({"months": [0.0, 12.0, 24.0]}))
        >>> bool((band["ci_low"] < band["predicted"]).all() and (band["predicted"] < band["ci_high"]).all())
        True
        """
        needed = [self.spec.time, *_columns_in(self.spec.covariates + self.spec.interactions)]
        missing = [column for column in dict.fromkeys(needed) if column not in newdata.columns]
        if missing:
            raise LongitudinalError(f"predict: newdata lacks column(s) {missing}; the model uses {sorted(set(needed))}")
        prepared = _as_model_frame(newdata, self.data, [c for c in needed if c != self.spec.time])
        design_info = self.result.model.data.model_spec
        try:
            (x,) = patsy.build_design_matrices([design_info], prepared, return_type="dataframe")
        except patsy.PatsyError as exc:
            raise LongitudinalError(f"predict: newdata does not fit the model ({exc})") from None
        x = x.to_numpy()
        mean = x @ self.params.to_numpy()
        se = np.sqrt(np.einsum("ij,jk,ik->i", x, self._fe_cov(), x))
        low, high, _ = _stats.wald_interval(mean, se, confidence)
        return newdata.assign(predicted=mean, se=se, ci_low=low, ci_high=high)

    def refit(self, reml: bool) -> GrowthFit:
        """The same model fitted by REML or by ML."""
        return _fit(self.spec, self.data, reml=reml) if reml != self.reml else self

    def __repr__(self) -> str:
        method = "REML" if self.reml else "ML"
        slope = f"1 + {self.spec.time}" if self.spec.random_slope else "1"
        return (
            f"<GrowthFit {self.formula} + ({slope} | {self.spec.professional}); {method}; "
            f"{self.n_obs} answers from {self.n_professionals} professionals>"
        )


def _wald_row(estimate: float, se: float, confidence: float) -> pd.DataFrame:
    statistic = estimate / se if se > 0 else np.nan
    low, high, p = _stats.wald_interval(estimate, se if se > 0 else np.nan, confidence)
    return pd.DataFrame(
        {
            "estimate": [estimate],
            "se": [se],
            "z": [statistic],
            "p": [float(p)],
            "ci_low": [float(low)],
            "ci_high": [float(high)],
        }
    )


def _columns_in(terms: Sequence[str]) -> list[str]:
    """The column names in covariate and interaction terms (``"months:role"`` -> months, role)."""
    return [name.strip() for term in terms for name in term.split(":")]


def _as_model_frame(frame: pd.DataFrame, reference: pd.DataFrame | None, columns: Sequence[str]) -> pd.DataFrame:
    """Turn non-numeric columns into categoricals so that the formula treats them as factors.

    The reference level is the first category of a pandas Categorical, else
    the first value in sorted order. For prediction the categories of the
    fitted data are reused, so that a level unknown to the model is an error.
    """
    frame = frame.copy()
    for column in columns:
        if reference is not None and isinstance(reference[column].dtype, pd.CategoricalDtype):
            categories = reference[column].cat.categories
            unknown = sorted(set(frame[column].dropna()) - set(categories), key=str)
            if unknown:
                raise LongitudinalError(
                    f"column {column!r} has value(s) {unknown} the model was not fitted on; allowed: {list(categories)}"
                )
            frame[column] = pd.Categorical(frame[column], categories=categories)
        elif not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column]):
            frame[column] = frame[column].astype("category")
    return frame


def panel_from_responses(
    instrument: Instrument,
    responses: pd.DataFrame,
    start: str | pd.Timestamp,
    labels: Sequence[str] = (),
    keep: Sequence[str] = (),
    lang: str = "en",
) -> pd.DataFrame:
    """The tidy panel (one row per professional x wave) from wide responses to a repeated instrument.

    Scale scores come from :func:`kantelmeter.scoring.score`. ``wave`` is the
    position (from 1) of the occasion among the instrument's occasions,
    ``date`` the day the answers were collected and ``months`` the time since
    ``start`` in months of 365.25/12 days, the time axis of :func:`fit_growth`.

    Parameters
    ----------
    instrument : Instrument
    responses : pandas.DataFrame
        Wide responses (tidy contract), for example from
        :meth:`kantelmeter.store.Store.responses`.
    start : date
        Month 0, such as the start of the pilot.
    labels : sequence of str
        Coded items (organisation, team) to add as categorical columns of
        their answer labels, in code order, so the first code is the
        reference of a model.
    keep : sequence of str
        Further item columns to copy unchanged (a role-conception score).
    lang : {"en", "nl"}
        Language of the labels.

    Examples
    --------
    >>> from kantelmeter.synth import professional_panel
    >>> panel = professional_panel(seed=1)
    >>> data = panel_from_responses(panel.instrument, panel.responses, "2010-03-01", labels=["organisation"])
    >>> data["organisation"].cat.categories.tolist()
    ['municipality', 'partner organisation']
    >>> bool((data["work_enjoyment"] == panel.data["work_enjoyment"]).all())
    True
    """
    _check_columns(responses, ["respondent", "occasion", "collected_at", *labels, *keep], "panel_from_responses")
    unknown = sorted(set(responses["occasion"].dropna()) - set(instrument.occasions))
    if unknown:
        raise LongitudinalError(
            f"panel_from_responses: occasion(s) {unknown} are not occasions of "
            f"{instrument.id!r}; allowed: {', '.join(instrument.occasions)}"
        )
    scores = score(instrument, responses)
    date = pd.to_datetime(responses["collected_at"])
    if date.dt.tz is not None:
        date = date.dt.tz_convert("UTC").dt.tz_localize(None)
    data = pd.DataFrame(
        {
            "professional": responses["respondent"],
            "occasion": responses["occasion"],
            "wave": responses["occasion"].map(lambda o: instrument.occasions.index(o) + 1),
            "date": date.dt.normalize(),
            "months": (date - pd.Timestamp(start)).dt.days / DAYS_PER_MONTH,
        }
    )
    for item_id in labels:
        scale = instrument.response_scale_of(item_id)
        if scale is None or instrument.item(item_id).type is ItemType.multiple_choice:
            raise LongitudinalError(
                f"panel_from_responses: item {item_id!r} has no single coded answer to label; "
                "allowed: single-choice or rating items"
            )
        names = scale.labels(lang, include_missing=False)
        data[item_id] = pd.Categorical(responses[item_id].map(names), categories=list(names.values()))
    for item_id in keep:
        data[item_id] = responses[item_id]
    for scale in instrument.scales:
        data[scale.id] = scores[scale.id]
    return data.sort_values(["professional", "wave"]).reset_index(drop=True)


def _check_columns(data: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [column for column in dict.fromkeys(columns) if column not in data.columns]
    if missing:
        raise LongitudinalError(f"{where}: unknown column(s) {missing}; the data has {list(data.columns)}")
    for column in columns:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column):
            raise LongitudinalError(
                f"{where}: column name {column!r} cannot be used in a model formula; "
                "allowed: letters, digits and underscores, not starting with a digit"
            )


def fit_growth(
    data: pd.DataFrame,
    outcome: str,
    time: str = "months",
    covariates: Sequence[str] = (),
    interactions: Sequence[str] = (),
    random_slope: bool = True,
    professional: str = "professional",
    reml: bool = True,
) -> GrowthFit:
    """Fit a linear growth model with a random intercept (and slope) per professional.

    The model is ``outcome ~ time + covariates + interactions`` with, per
    professional ``i``, a random intercept ``u0_i`` and, if ``random_slope``,
    a random slope ``u1_i`` on ``time`` with an unstructured 2x2 covariance
    (Singer & Willett 2003, ch. 4, the "multilevel model for change";
    Laird & Ware 1982, *Biometrics* 38, 963). It is fitted by restricted
    maximum likelihood (REML) by default, which gives unbiased variance
    components; use :func:`compare_growth` (which refits by ML) to compare
    models. Rows with a missing value in a used column are dropped; people
    with a single wave keep their row.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy panel: one row per professional x wave.
    outcome : str
        A numeric scale-score column.
    time : str
        A numeric time column: months since the start, or the wave number.
        The intercept is the level at ``time == 0``.
    covariates : sequence of str
        Columns entered as main effects. Numeric columns enter linearly;
        any other column (text, categorical, boolean) is a factor in
        treatment coding whose reference is its first category (a pandas
        Categorical) or its first sorted value.
    interactions : sequence of str
        Interaction terms such as ``"months:role"`` (the slope differs by
        role) or ``"organisation:role"``; the columns must be in the data.
    random_slope : bool
        A random slope on ``time`` besides the random intercept.
    professional : str
        The column identifying the professional (a pseudonym).
    reml : bool
        REML (default) or ML.

    Returns
    -------
    GrowthFit

    Raises
    ------
    LongitudinalError
        Unknown columns, a non-numeric outcome or time, a constant outcome,
        or fewer than ``MIN_PROFESSIONALS`` professionals.

    Examples
    --------
    >>> from kantelmeter.synth import professional_panel
    >>> panel = professional_panel(seed=3)
    >>> fit = fit_growth(panel.data, "work_enjoyment", covariates=["team", "organisation", "role"])
    >>> fit.n_professionals, fit.params.index[1]
    (18, 'team[T.2]')
    >>> 0 < fit.icc < 1
    True
    """
    spec = _Spec(
        outcome=outcome,
        time=time,
        covariates=tuple(covariates),
        interactions=tuple(interactions),
        random_slope=random_slope,
        professional=professional,
    )
    used = [professional, outcome, time, *_columns_in(spec.covariates + spec.interactions)]
    _check_columns(data, used, "fit_growth")
    for role, column in (("outcome", outcome), ("time", time)):
        if not pd.api.types.is_numeric_dtype(data[column]) or pd.api.types.is_bool_dtype(data[column]):
            raise LongitudinalError(
                f"fit_growth: {role} column {column!r} has dtype {data[column].dtype}; allowed: a numeric column"
            )
    frame = _as_model_frame(data[list(dict.fromkeys(used))], None, [c for c in used[3:] if c != time])
    frame = frame.dropna().reset_index(drop=True)
    n_professionals = frame[professional].nunique()
    if n_professionals < MIN_PROFESSIONALS:
        raise LongitudinalError(
            f"fit_growth: {n_professionals} professional(s) with complete rows in "
            f"{used[1:]}; at least {MIN_PROFESSIONALS} are needed"
        )
    if frame[outcome].nunique() < 2:
        value = float(frame[outcome].iloc[0]) if len(frame) else None
        raise LongitudinalError(
            f"fit_growth: outcome {outcome!r} is constant ({value!r}) in all "
            f"{len(frame)} rows; a growth model needs variation"
        )
    if random_slope and (frame.groupby(professional)[time].nunique() > 1).sum() < 2:
        raise LongitudinalError(
            f"fit_growth: fewer than two professionals have more than one value of {time!r}; "
            "a random slope needs repeated waves (use random_slope=False)"
        )
    return _fit(spec, frame, reml=reml)


def _mixedlm(
    formula: str, frame: pd.DataFrame, professional: str, re_formula: str, reml: bool
) -> tuple[MixedLMResults, list[str]]:
    """Fit MixedLM by the best of several optimisers, collecting their warnings instead of printing them.

    On small panels with a variance near its boundary one quasi-Newton
    method may stop early or far from the optimum while another converges,
    and a gradient step can land where the marginal covariance is singular.
    BFGS and L-BFGS are both run and the converged fit with the highest
    likelihood is kept; Powell (no gradient) is the fallback when neither
    converges.
    """
    model = smf.mixedlm(formula, frame, groups=frame[professional], re_formula=re_formula)
    fits = []
    for method in _OPTIMISERS:
        if method == _OPTIMISERS[-1] and any(result.converged for result, _ in fits):
            break
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                result = model.fit(reml=reml, method=[method])
            except np.linalg.LinAlgError:
                continue
        fits.append(
            (result, list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning))))
        )
    if not fits:
        raise LongitudinalError(
            f"fit_growth: {formula} could not be fitted by any of {', '.join(_OPTIMISERS)} "
            "(singular covariance); simplify the model, for example random_slope=False"
        )
    return max(fits, key=lambda fit: (bool(fit[0].converged), fit[0].llf))


def _fit(spec: _Spec, frame: pd.DataFrame, reml: bool) -> GrowthFit:
    result, messages = _mixedlm(spec.formula, frame, spec.professional, spec.re_formula, reml)
    null, _ = _mixedlm(f"{spec.outcome} ~ 1", frame, spec.professional, "~1", reml)
    between = float(null.cov_re.iloc[0, 0])
    waves = frame.groupby(spec.professional).size()
    return GrowthFit(
        spec=spec,
        data=frame,
        result=result,
        fe_cov=_gls_cov(result),
        icc=between / (between + float(null.scale)),
        single_wave=int((waves == 1).sum()),
        converged=bool(result.converged),
        warnings=messages,
    )


def _gls_cov(result: MixedLMResults) -> np.ndarray:
    """Covariance of the fixed effects, ``(sum_i X_i' V_i^-1 X_i)^-1`` with ``V_i = Z_i G Z_i' + s2 I``."""
    model = result.model
    g, s2 = np.asarray(result.cov_re, dtype=float), float(result.scale)
    information = np.zeros((model.k_fe, model.k_fe))
    for label in model.group_labels:
        rows = model.row_indices[label]
        x, z = model.exog[rows], model.exog_re[rows]
        information += x.T @ np.linalg.solve(z @ g @ z.T + s2 * np.eye(len(rows)), x)
    return np.linalg.inv(information)


def compare_growth(*fits: GrowthFit) -> pd.DataFrame:
    """Compare nested growth models by likelihood-ratio test and AIC.

    Each model is refitted by maximum likelihood (ML). REML maximises the
    likelihood of residuals that depend on the fixed-effects design, so
    REML likelihoods of models with different fixed effects are not
    comparable; ML likelihoods are (Pinheiro & Bates 2000, *Mixed-Effects
    Models in S and S-PLUS*, Springer, sect. 2.4.2; Verbeke & Molenberghs
    2000, sect. 6.2). Each model is tested against the one before it:
    ``LR = 2 (llf_larger - llf_smaller)`` on the difference in parameters
    (fixed effects plus variance components). Adding a random slope tests a
    variance on the boundary of its space; there the p value comes from the
    50:50 mixture of chi-square with 1 and 2 degrees of freedom (Stram & Lee
    1994, *Biometrics* 50, 1171) instead of the conservative chi-square with 2.

    Parameters
    ----------
    *fits : GrowthFit
        Two or more fits on the same rows, each nested in the next.

    Returns
    -------
    pandas.DataFrame
        One row per model: formula, random part, n_params, loglik (ML),
        aic, bic, and against the previous model lr, df, p, method.

    Examples
    --------
    >>> from kantelmeter.synth import professional_panel
    >>> data = professional_panel(seed=2, n_teams=3).data
    >>> small = fit_growth(data, "work_enjoyment", random_slope=False)
    >>> large = fit_growth(data, "work_enjoyment", covariates=["end_announced"], random_slope=False)
    >>> table = compare_growth(small, large)
    >>> table[["n_params", "df"]].to_dict("list")
    {'n_params': [4, 5], 'df': [nan, 1.0]}
    >>> bool(table["p"].iloc[1] < 0.05)
    True
    """
    if len(fits) < 2:
        raise LongitudinalError(f"compare_growth: {len(fits)} model(s) given; allowed: two or more nested fits")
    ml = [fit.refit(reml=False) for fit in fits]
    rows = []
    for index, fit in enumerate(ml):
        n_params = len(fit.params) + len(fit.result.cov_re) * (len(fit.result.cov_re) + 1) // 2 + 1
        row = {
            "formula": fit.formula,
            "random": f"1 + {fit.spec.time}" if fit.spec.random_slope else "1",
            "n_params": n_params,
            "loglik": float(fit.result.llf),
            "aic": 2 * n_params - 2 * float(fit.result.llf),
            "bic": np.log(fit.n_obs) * n_params - 2 * float(fit.result.llf),
            "lr": np.nan,
            "df": np.nan,
            "p": np.nan,
            "method": "",
        }
        if index:
            previous, prev_row = ml[index - 1], rows[-1]
            _check_nested(previous, fit, index)
            lr = max(0.0, 2 * (row["loglik"] - prev_row["loglik"]))
            df = row["n_params"] - prev_row["n_params"]
            only_slope = (
                list(previous.params.index) == list(fit.params.index)
                and not previous.spec.random_slope
                and fit.spec.random_slope
            )
            if only_slope:
                p, method = 0.5 * stats.chi2.sf(lr, 1) + 0.5 * stats.chi2.sf(lr, 2), "LR, 50:50 chi2(1)/chi2(2) mixture"
            else:
                p, method = stats.chi2.sf(lr, df), f"LR, chi2({df})"
            row.update(lr=lr, df=float(df), p=p, method=method)
        rows.append(row)
    return pd.DataFrame(rows)


def _check_nested(smaller: GrowthFit, larger: GrowthFit, index: int) -> None:
    where = f"compare_growth: model {index} is not nested in model {index + 1}"
    if smaller.spec.outcome != larger.spec.outcome or smaller.spec.time != larger.spec.time:
        raise LongitudinalError(
            f"{where}: outcome/time {smaller.spec.outcome}/{smaller.spec.time} against "
            f"{larger.spec.outcome}/{larger.spec.time}; both must be the same"
        )
    if len(smaller.data) != len(larger.data) or not smaller.data[smaller.spec.professional].equals(
        larger.data[larger.spec.professional]
    ):
        raise LongitudinalError(
            f"{where}: fitted on {len(smaller.data)} and {len(larger.data)} rows; both must use "
            "the same rows (drop rows with missing covariates before fitting)"
        )
    extra = sorted(set(smaller.params.index) - set(larger.params.index))
    if extra or (smaller.spec.random_slope and not larger.spec.random_slope):
        raise LongitudinalError(
            f"{where}: terms {extra or ['random slope']} of the smaller model are missing "
            "from the larger one; order the models from smaller to larger"
        )


def _wave_order(data: pd.DataFrame, wave: str) -> list:
    """Waves in their order: Categorical order, else sorted values."""
    if isinstance(data[wave].dtype, pd.CategoricalDtype):
        return [w for w in data[wave].cat.categories if w in set(data[wave])]
    return sorted(data[wave].dropna().unique())


def _check_table(data: pd.DataFrame, outcome: str, columns: Sequence[str], where: str) -> None:
    _check_columns(data, [outcome, *columns], where)
    if not pd.api.types.is_numeric_dtype(data[outcome]) or pd.api.types.is_bool_dtype(data[outcome]):
        raise LongitudinalError(
            f"{where}: outcome column {outcome!r} has dtype {data[outcome].dtype}; allowed: a numeric column"
        )


def wave_changes(
    data: pd.DataFrame,
    outcome: str,
    wave: str = "wave",
    professional: str = "professional",
    by: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Change between consecutive waves among the professionals present at both.

    For each pair of consecutive waves the within-person differences
    (later minus earlier) of those who answered at both are summarised: mean,
    standard deviation, n and a t-based confidence interval with its p value
    (the paired t test, Student 1908; Howell 2013, *Statistical Methods for
    Psychology*, 8th ed., sect. 7.4). Newcomers and leavers do not enter a
    change they were not there for, so a change is never a change in who was
    asked.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy panel: one row per professional x wave.
    outcome, wave, professional : str
        Column names.
    by : str, optional
        A column to split by (for example ``"organisation"``); a professional's
        value at the earlier wave of a pair is used.
    confidence : float

    Returns
    -------
    pandas.DataFrame
        One row per pair of waves (and group): from_wave, to_wave, n,
        mean_change, sd, ci_low, ci_high, p.

    Examples
    --------
    >>> from kantelmeter.synth import professional_panel
    >>> changes = wave_changes(professional_panel(seed=1).data, "work_enjoyment")
    >>> changes[["from_wave", "to_wave", "n"]].head(2).to_dict("list")
    {'from_wave': [1, 2], 'to_wave': [2, 3], 'n': [7, 7]}
    """
    _check_table(data, outcome, [wave, professional, *([by] if by else [])], "wave_changes")
    order = _wave_order(data, wave)
    rows = []
    for earlier, later in zip(order, order[1:]):
        keys = [professional, *([by] if by else [])]
        before = data.loc[data[wave] == earlier, keys + [outcome]].dropna()
        after = data.loc[data[wave] == later, [professional, outcome]].dropna()
        pairs = before.merge(after, on=professional, suffixes=("_before", "_after"))
        pairs["change"] = pairs[f"{outcome}_after"] - pairs[f"{outcome}_before"]
        groups = pairs.groupby(by, observed=True) if by else [(None, pairs)]
        for group, part in groups:
            rows.append(
                {
                    "from_wave": earlier,
                    "to_wave": later,
                    **({by: group} if by else {}),
                    **_mean_change(part["change"].to_numpy(), confidence),
                }
            )
    return pd.DataFrame(rows)


def _mean_change(values: np.ndarray, confidence: float) -> dict:
    paired = _stats.mean_interval(values, confidence)
    return {
        "n": paired["n"],
        "mean_change": paired["mean"],
        "sd": paired["sd"],
        "ci_low": paired["ci_low"],
        "ci_high": paired["ci_high"],
        "p": paired["p"],
    }


def leavers_vs_stayers(
    data: pd.DataFrame,
    outcome: str,
    wave: str = "wave",
    professional: str = "professional",
    left: str | None = "left",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Those who left before the end compared with those who stayed, at the leavers' last wave.

    A leaver is a professional with a value in the ``left`` column (the date
    they left the team); without such a column, one whose last answer comes
    before the panel's last wave. For every wave that was some leaver's last,
    the leavers' scores at that wave are compared with the scores at the same
    wave of the professionals who stayed to the end, so both groups are
    measured at the same moment. The difference (leavers minus stayers)
    has a Welch confidence interval (Welch 1947, *Biometrika* 34, 28); the
    standardised difference is Hedges' g with its small-sample correction and
    the CI g +/- t(n1 + n2 - 2) se with the large-sample standard error of
    Hedges & Olkin (1985, *Statistical Methods for Meta-Analysis*, Academic
    Press, ch. 5), as ``pingouin.compute_esci`` computes it.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy panel: one row per professional x wave.
    outcome, wave, professional : str
        Column names.
    left : str or None
        Column with the date a professional left (missing for those who
        stayed); None infers leaving from the last wave answered.
    confidence : float

    Returns
    -------
    pandas.DataFrame
        One row per wave: wave, n_leavers, n_stayers, mean_leavers,
        mean_stayers, difference, ci_low, ci_high, hedges_g, g_ci_low, g_ci_high.

    Examples
    --------
    >>> from kantelmeter.synth import professional_panel
    >>> table = leavers_vs_stayers(professional_panel(seed=1, n_teams=2).data, "work_enjoyment")
    >>> table.columns[:3].tolist()
    ['wave', 'n_leavers', 'n_stayers']
    """
    columns = [wave, professional, *([left] if left else [])]
    _check_table(data, outcome, columns, "leavers_vs_stayers")
    order = _wave_order(data, wave)
    answered = data.dropna(subset=[outcome])
    last = answered.groupby(professional)[wave].agg(lambda waves: max(waves, key=order.index))
    if left:
        leavers = set(data.loc[data[left].notna(), professional])
    else:
        leavers = set(last.index[last != order[-1]])
    rows = []
    for moment in [w for w in order if w in set(last[last.index.isin(leavers)])]:
        at = answered[answered[wave] == moment]
        leaving = at.loc[at[professional].isin(leavers) & at[professional].map(last).eq(moment), outcome]
        staying = at.loc[~at[professional].isin(leavers), outcome]
        rows.append({"wave": moment, **_two_groups(leaving.to_numpy(float), staying.to_numpy(float), confidence)})
    return pd.DataFrame(rows)


def _two_groups(x: np.ndarray, y: np.ndarray, confidence: float) -> dict:
    row = {
        "n_leavers": len(x),
        "n_stayers": len(y),
        "mean_leavers": x.mean() if len(x) else np.nan,
        "mean_stayers": y.mean() if len(y) else np.nan,
    }
    row["difference"] = row["mean_leavers"] - row["mean_stayers"]
    if len(x) < 2 or len(y) < 2 or (x.var(ddof=1) + y.var(ddof=1)) == 0:
        return {**row, "ci_low": np.nan, "ci_high": np.nan, "hedges_g": np.nan, "g_ci_low": np.nan, "g_ci_high": np.nan}
    difference, standardised = _stats.welch(x, y, confidence), _stats.hedges_g(x, y, confidence)
    return {
        **row,
        "ci_low": difference["ci_low"],
        "ci_high": difference["ci_high"],
        "hedges_g": standardised["g"],
        "g_ci_low": standardised["ci_low"],
        "g_ci_high": standardised["ci_high"],
    }
