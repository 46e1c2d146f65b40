"""Valid responses for any instrument, drawn from each column's answer domain, for round-trip tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kantelmeter.answers import domains
from kantelmeter.privacy import validate_bsn

# Texts a spreadsheet would run as formulas, text with accents, quotes and separators.
TEXTS = ["=SUM(A1:A9)", "+31 6 1234", "-", "@home", 'café; "goed", dank', "prima"]


def valid_bsns(count: int) -> list[str]:
    found, candidate = [], 100000000
    while len(found) < count:
        candidate += 7
        try:
            found.append(validate_bsn(str(candidate)))
        except ValueError:
            continue
    return found


def valid_responses(instrument, occasion: str, respondents: list[str], seed: int = 1) -> pd.DataFrame:
    """One complete, valid response per respondent at an occasion: every asked item answered."""
    rng = np.random.default_rng(seed)
    n = len(respondents)
    asked = {item.id for item in instrument.items_at(occasion)}
    frame = {
        "respondent": respondents,
        "cohort": rng.choice(["pilot", "regular"], n),
        "collected_at": pd.Timestamp("2011-03-27 00:30", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**8, n), "s"),
    }
    bsns = valid_bsns(n)
    for column, domain in domains(instrument).items():
        if domain.item.id not in asked:
            continue
        if domain.kind == "code":
            frame[column] = rng.choice([*domain.codes, *domain.missing], n).astype(float)
        elif domain.kind == "option":
            frame[column] = rng.choice([0.0, 1.0], n)
        elif domain.kind == "number":
            low = domain.low if domain.low is not None else 0
            high = domain.high if domain.high is not None else 100
            values = rng.uniform(low, high, n)
            frame[column] = (np.floor(values) if domain.item.whole else np.round(values, 2)).clip(low, high)
        elif domain.kind == "date":
            frame[column] = [
                str(pd.Timestamp("2010-01-01") + pd.Timedelta(days=int(d)))[:10] for d in rng.integers(0, 900, n)
            ]
        elif domain.identifier == "bsn":
            frame[column] = bsns
        elif domain.identifier:
            frame[column] = [f"Klant {i} de Vries" for i in range(n)]
        else:
            frame[column] = rng.choice(TEXTS, n)
    return pd.DataFrame(frame)
