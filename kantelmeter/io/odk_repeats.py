"""The repeat tables of an ODK Central or KoboToolbox export, joined to their responses.

A repeated section travels in an XLSForm as a ``begin_repeat`` (see
:func:`kantelmeter.io.xlsform.xlsform`). ODK Central and KoboToolbox export
its answers to a second table, one row per repetition, linked to the main
table by ``PARENT_KEY`` (ODK Central: the parent's ``KEY``) or
``_parent_index`` (KoboToolbox: the parent's ``_index``). :func:`join_repeats`
puts each repetition's answers back into the wide columns of its response
(``interventions__2``), the repetition read from the ``<repeat>_element``
field that holds the option's code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import Instrument
from kantelmeter.io.xlsform import ELEMENT, repeat_paths

__all__ = ["RepeatImportError", "join_repeats"]

#: How a repeat table names the row of the main table it belongs to, and that row's own key.
LINKS = (("PARENT_KEY", "KEY"), ("_parent_index", "_index"))


class RepeatImportError(KantelmeterError, ValueError):
    """A repeat table that cannot be joined to its responses; the message names the table, row and value."""


def join_repeats(
    frame: pd.DataFrame, repeats: Mapping[str, pd.DataFrame], instrument: Instrument, occasion: str | None = None
) -> pd.DataFrame:
    """The main table of an export with the answers of its repeat tables as wide columns.

    Parameters
    ----------
    frame : DataFrame
        The main table as exported (with ``KEY`` or ``_index``).
    repeats : mapping of str to DataFrame
        Each repeat table by its file or sheet name (for messages).
    instrument : Instrument
    occasion : str, optional
        The occasion of the form the export comes from.

    Returns
    -------
    DataFrame
        ``frame`` with one column per repeated field and repetition, named as
        the instrument names them (``own_part__3``; a packed multiple choice
        ``interventions__3``, a split one ``interventions__3_7``).

    Raises
    ------
    RepeatImportError
        A table that belongs to no repeat of the form, a row whose parent is
        not in the main table, an element that is not an option of the
        source, or an element given twice for one response.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> main = pd.DataFrame({"KEY": ["uuid:a"], "respondent": ["a"]})
    >>> child = pd.DataFrame({"problem_follow_up-problem_follow_up_element": [3],
    ...                       "problem_follow_up-own_part": [2], "PARENT_KEY": ["uuid:a"]})
    >>> join_repeats(main, {"child.csv": child}, load_instrument("citizen"), "follow_up").columns.tolist()
    ['KEY', 'respondent', 'own_part__3']
    """
    forms = repeat_paths(instrument, occasion)
    added: dict[str, pd.Series] = {}
    for name, table in repeats.items():
        repeat = _repeat_of(name, table, forms)
        link, key = next(
            ((link, key) for link, key in LINKS if link in table.columns and key in frame.columns), (None, None)
        )
        if link is None:
            raise RepeatImportError(
                f"{name}: no link to the main table; a repeat table needs "
                f"{' or '.join(link for link, _ in LINKS)}, the main table the matching key"
            )
        rows = pd.Index(frame[key].astype(str))
        paths = forms[repeat]
        columns = {
            column: paths[parts]
            for column in table.columns
            if (parts := tuple(re.split(r"[/-]", str(column)))) in paths or (parts := parts[-2:]) in paths
        }  # KoboToolbox can export without group names
        element = next((c for c in table.columns if str(c).endswith(f"{repeat}{ELEMENT}")), None)
        if element is None:
            raise RepeatImportError(f"{name}: no column {repeat}{ELEMENT}, which says which option each row is about")
        repetitions = {r.code: r for r in instrument.repetitions if r.template.id == repeat}
        seen: set[tuple[str, int]] = set()
        for row, record in enumerate(table.to_dict("records"), start=2):
            parent = str(record[link])
            if parent not in rows:
                raise RepeatImportError(f"{name}: row {row}: {link} {parent!r} is not a {key} of the main table")
            code = pd.to_numeric(pd.Series([record[element]]), errors="coerce").iloc[0]
            if code not in repetitions:
                raise RepeatImportError(
                    f"{name}: row {row}: {element} = {record[element]!r}; allowed: {', '.join(map(str, repetitions))}"
                )
            if (parent, int(code)) in seen:
                raise RepeatImportError(f"{name}: row {row}: a second row for option {int(code)} of {parent!r}")
            seen.add((parent, int(code)))
            asked = _asked_columns(instrument, repetitions[int(code)])
            for column, declared in columns.items():
                if declared is None or pd.isna(record[column]) or record[column] == "":
                    continue
                target = asked[declared]
                added.setdefault(target, pd.Series(pd.NA, index=frame.index, dtype=object))
                added[target].iloc[rows.get_loc(parent)] = record[column]
    return pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1) if added else frame


def _repeat_of(name: str, table: pd.DataFrame, forms: Mapping[str, Mapping]) -> str:
    """The repeat a table holds: the repeat whose name starts its columns' paths."""
    for repeat in forms:
        if any(repeat in re.split(r"[/-]", str(column)) for column in table.columns):
            return repeat
    raise RepeatImportError(
        f"{name}: none of its columns is a field of a repeat of the form; repeats: {', '.join(forms) or 'none'}"
    )


def _asked_columns(instrument: Instrument, repetition) -> dict[str, str]:
    """A repeated section's declared columns (and item ids) to their columns in one repetition."""
    asked = {}
    for declared_id, asked_id in repetition.items.items():
        asked[declared_id] = asked_id  # a packed multiple choice comes in under the item's id
        asked.update(
            zip(instrument.columns_of(instrument.item(declared_id)), instrument.columns_of(instrument.item(asked_id)))
        )
    return asked
