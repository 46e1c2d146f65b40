"""A synthetic client register with known truth, for the demo, tests and benchmarks.

A Wmo client register lists each client with an identifier, name and
address (which never leave the municipality) and a few facts: age group,
sex, type of provision, district, start date. :func:`synthetic_register`
makes one with valid (eleven-test) but invented BSNs and invented names;
:func:`synthetic_round` adds what a round would observe: who responds
(response depending on age and provision, as it does in real CEO rounds:
older clients answer more often, clients with a wheelchair or transport
provision less) and their answers to a CEO item (agreement depending on
provision), so weighted estimates can be checked against the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "AGE_GROUPS",
    "DISTRICTS",
    "PROVISIONS",
    "RoundTruth",
    "synthetic_answers",
    "synthetic_bsns",
    "synthetic_register",
    "synthetic_round",
]

AGE_GROUPS = {"18-64": 0.30, "65-74": 0.25, "75-84": 0.30, "85+": 0.15}
PROVISIONS = {"huishoudelijke hulp": 0.45, "hulpmiddel": 0.25, "vervoer": 0.20, "begeleiding": 0.10}
DISTRICTS = {"Hoofddorp": 0.45, "Nieuw-Vennep": 0.25, "Badhoevedorp": 0.15, "Zwanenburg": 0.15}
_FIRST = [
    "Anna",
    "Bram",
    "Cor",
    "Dina",
    "Els",
    "Frits",
    "Greet",
    "Henk",
    "Ineke",
    "Jan",
    "Kees",
    "Lies",
    "Mien",
    "Nel",
    "Piet",
    "Riet",
    "Sjaak",
    "Truus",
    "Wim",
    "Zus",
]
_LAST = [
    "Bakker",
    "de Boer",
    "Dekker",
    "van Dijk",
    "Jansen",
    "de Jong",
    "Kok",
    "Mulder",
    "Peters",
    "Smit",
    "de Vries",
    "Visser",
    "Vos",
    "de Wit",
]
_STREETS = ["Dorpsstraat", "Kerkweg", "Molenlaan", "Polderweg", "Ringvaartdijk", "Schoolstraat"]


@dataclass(frozen=True)
class RoundTruth:
    """How the synthetic clients respond and answer (the truth the benchmark checks against).

    Response probability is ``base`` times ``by_age`` times ``by_provision``;
    the probability to agree with the CEO item is ``agree`` per provision,
    and the true mean of the 0-10 rating ``rating`` per age group.
    """

    base: float = 0.55
    by_age: tuple[tuple[str, float], ...] = (("18-64", 0.55), ("65-74", 1.0), ("75-84", 1.25), ("85+", 1.0))
    by_provision: tuple[tuple[str, float], ...] = (
        ("huishoudelijke hulp", 1.15),
        ("hulpmiddel", 1.0),
        ("vervoer", 0.75),
        ("begeleiding", 0.65),
    )
    agree: tuple[tuple[str, float], ...] = (
        ("huishoudelijke hulp", 0.85),
        ("hulpmiddel", 0.80),
        ("vervoer", 0.65),
        ("begeleiding", 0.55),
    )
    rating: tuple[tuple[str, float], ...] = (("18-64", 6.2), ("65-74", 7.0), ("75-84", 7.6), ("85+", 7.9))


def synthetic_bsns(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct invented numbers that pass the BSN eleven-test.

    Eight random digits get the ninth that makes 9 d1 + ... + 2 d8 - d9 divisible
    by 11; a draw whose check digit would be 10 is drawn again.

    Examples
    --------
    >>> from kantelmeter.privacy import is_valid_bsn
    >>> all(map(is_valid_bsn, synthetic_bsns(50, np.random.default_rng(0))))
    True
    """
    found: dict[str, None] = {}
    weights = np.array([9, 8, 7, 6, 5, 4, 3, 2])
    while len(found) < n:
        digits = rng.integers(0, 10, size=(2 * (n - len(found)) + 10, 8))
        digits[:, 0] = rng.integers(1, 10, size=len(digits))  # no leading zero: the numbers look like issued ones
        check = (digits @ weights) % 11
        for row, last in zip(digits[check < 10], check[check < 10]):
            found.setdefault("".join(map(str, row)) + str(last))
            if len(found) == n:
                break
    return list(found)


def synthetic_register(n: int = 5000, seed: int = 2026) -> pd.DataFrame:
    """A client register of ``n`` invented clients.

    Columns: ``bsn``, ``name``, ``address``, ``postcode``, ``city``,
    ``age_group``, ``sex``, ``provision``, ``district``, ``start_date``.

    Examples
    --------
    >>> register = synthetic_register(200, seed=1)
    >>> register.shape, register["bsn"].is_unique
    ((200, 10), True)
    """
    rng = np.random.default_rng(seed)

    def pick(options: dict[str, float]) -> np.ndarray:
        return rng.choice(list(options), size=n, p=np.array(list(options.values())) / sum(options.values()))

    district = pick(DISTRICTS)
    return pd.DataFrame(
        {
            "bsn": synthetic_bsns(n, rng),
            "name": [f"{f} {last}" for f, last in zip(rng.choice(_FIRST, n), rng.choice(_LAST, n))],
            "address": [f"{s} {k}" for s, k in zip(rng.choice(_STREETS, n), rng.integers(1, 200, n))],
            "postcode": [
                f"{p} {a}{b}"
                for p, a, b in zip(
                    rng.integers(2130, 2160, n), rng.choice(list("ABCDEFGHJK"), n), rng.choice(list("LMNPRSTVWX"), n)
                )
            ],
            "city": district,
            "age_group": pick(AGE_GROUPS),
            "sex": rng.choice(["vrouw", "man"], size=n, p=[0.62, 0.38]),
            "provision": pick(PROVISIONS),
            "district": district,
            "start_date": (
                pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 5 * 365, n), unit="D")
            ).strftime("%Y-%m-%d"),
        }
    )


def synthetic_round(register: pd.DataFrame, seed: int = 0, truth: RoundTruth = RoundTruth()) -> pd.DataFrame:
    """Who would respond and what they would answer, for every client of a register.

    Returns
    -------
    pandas.DataFrame
        Per client, in register order: ``response_probability``, ``responds``
        (bool), ``agree`` (0/1: agrees with a CEO statement), ``rating``
        (0-10).

    Examples
    --------
    >>> truth = synthetic_round(synthetic_register(2000, seed=2), seed=2)
    >>> bool(truth.groupby(synthetic_register(2000, seed=2)["age_group"]).responds.mean().is_monotonic_increasing)
    False
    """
    rng = np.random.default_rng(seed)
    p = (
        truth.base
        * register["age_group"].map(dict(truth.by_age)).to_numpy()
        * register["provision"].map(dict(truth.by_provision)).to_numpy()
    )
    p = np.clip(p, 0.02, 0.95)
    agree = rng.random(len(register)) < register["provision"].map(dict(truth.agree)).to_numpy()
    rating = np.clip(
        np.rint(register["age_group"].map(dict(truth.rating)).to_numpy() + rng.normal(0, 1.5, len(register))), 0, 10
    )
    return pd.DataFrame(
        {
            "response_probability": p,
            "responds": rng.random(len(register)) < p,
            "agree": agree.astype(int),
            "rating": rating,
        },
        index=register.index,
    )


def synthetic_answers(instrument, register: pd.DataFrame, truth: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Answers of the clients in ``register`` to the CEO items of an instrument, in wide form.

    Every item of the CEO themes gets an agreeing answer (one of the two
    highest codes) with the client's ``truth["agree"]``, otherwise one of the
    lower codes, and "don't know" now and then (5%); every item marked
    ``ceo:`` without a show-if condition gets a random valid code (each
    option of a multiple-choice item ticked with probability 0.3). Items the
    routing passes by (the access items for a client without contact,
    :func:`kantelmeter.routing.asked`) stay empty.

    Examples
    --------
    >>> from kantelmeter.instruments import load_instrument
    >>> register = synthetic_register(50, seed=3)
    >>> wide = synthetic_answers(load_instrument("citizen"), register, synthetic_round(register, seed=3))
    >>> bool((wide["ceo_access_quick"].notna() == (wide["support_contact"] == 1)).all())
    True
    """
    from kantelmeter.ceo import themes
    from kantelmeter.routing import asked

    rng = np.random.default_rng(seed)
    n = len(register)
    theme_items = {item for items in themes(instrument).values() for item in items}
    wide = {}
    for item in instrument.items:
        if item.id in theme_items:
            codes = sorted(instrument.valid_codes(item))
            agreeing = rng.choice(codes[-2:], n)
            other = rng.choice(codes[:-2], n)
            answer = np.where(truth["agree"].to_numpy() == 1, agreeing, other).astype(float)
            dont_know = instrument.missing_codes(item)
            if dont_know:
                answer[rng.random(n) < 0.05] = dont_know[0]
            wide[item.id] = answer
        elif item.ceo and not item.show_if:
            if item.type.value == "multiple_choice":
                for column in instrument.columns_of(item):
                    wide[column] = (rng.random(n) < 0.3).astype(float)
            else:
                wide[item.id] = rng.choice(instrument.valid_codes(item), n).astype(float)
    wide = pd.DataFrame(wide, index=register.index)
    shown = asked(instrument, wide)
    for item in instrument.items:
        columns = [c for c in instrument.columns_of(item) if c in wide]
        wide.loc[~shown[item.id], columns] = np.nan
    return wide
