"""Invitation letters and reminders: a mail-merge file for the municipality's own mail system.

The store holds pseudonyms only, so names and addresses come from the
register file again, joined here by pseudonymising its identifiers with the
same key, and go only into the files written for the mail room: the
mail-merge CSV (mode 0600), one QR code per letter (segno) and a PDF of all
letters printed by headless Chromium. Letter sentences are the
``letters`` section of the message catalogues (:mod:`kantelmeter.messages`, Dutch B1 and English); the municipality's name, sender,
contact, address of the form and privacy statement in its ``letters.yaml``.
"""

from __future__ import annotations

import base64
import csv
import html
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from kantelmeter.messages import message
from kantelmeter.survey.design import FrameError, _problem, read_register
from kantelmeter.survey.response import INELIGIBLE

__all__ = ["LetterSet", "load_settings", "write_letters"]

MASK = 4  # the QR mask pattern used for every letter
COLUMNS = ["letter", "kind", "pseudonym", "link", "code", "qr", "subject", "text"]


@dataclass(frozen=True)
class LetterSet:
    """What :func:`write_letters` wrote: the mail-merge CSV, the QR folder, the PDF (None without Chromium)."""

    csv: Path
    qr_folder: Path
    pdf: Path | None
    count: int


def load_settings(path: str | Path) -> dict:
    """A municipality's ``letters.yaml``, every required field checked (see data/haarlemmermeer/letters.yaml)."""
    path = Path(path)
    settings = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    required = {
        "municipality": str,
        "sender": dict,
        "contact": dict,
        "base_url": str,
        "reply_weeks": int,
        "privacy": dict,
    }
    problems = [
        _problem(None, key, settings.get(key), f"allowed: {kind.__name__}")
        for key, kind in required.items()
        if not isinstance(settings.get(key), kind)
    ]
    problems += [
        _problem(None, f"contact.{key}", None, "missing")
        for key in ("phone", "email")
        if isinstance(settings.get("contact"), dict) and key not in settings["contact"]
    ]
    if isinstance(settings.get("base_url"), str) and not settings["base_url"].startswith(("http://", "https://")):
        problems.append(_problem(None, "base_url", settings["base_url"], "allowed: an address starting with https://"))
    if problems:
        raise FrameError(str(path), problems)
    return settings


def write_letters(
    store,
    round: str,
    register: str | Path | pd.DataFrame,
    out: str | Path,
    settings: dict,
    *,
    id: str,
    reminder: bool = False,
    lang: str = "nl",
    name_column: str = "name",
    address_columns: tuple[str, ...] = ("address", "postcode", "city"),
    pdf: bool = True,
) -> LetterSet:
    """Make the letters (or reminders) of a round and write them for the mail room.

    First letters go to every sampled client who has none yet and is not
    recorded as ineligible; reminders to those with a letter but without a
    complete response, a refusal or an ineligible code. Each letter gets a
    new invitation (:meth:`kantelmeter.store.Store.invite_round`).

    Parameters
    ----------
    store : Store
    round : str
    register : path or DataFrame
        The register the frame was made from, read again for names and addresses.
    out : path
        The mail-merge CSV (written with mode 0600). Beside it: ``<stem>_qr/``
        (one PNG per letter, mode 0700) and ``<stem>.pdf``.
    settings : dict
        From :func:`load_settings`.
    id : str
        The register's identifier column (of the round's ``id_kind``).
    reminder : bool
    lang : {"nl", "en"}
    name_column, address_columns : str
        Register columns copied into the CSV for the envelope.
    pdf : bool, default True
        Also print every letter to one PDF (needs Chromium).

    Returns
    -------
    LetterSet
    """
    import segno

    info = store.round_info(round)
    if isinstance(register, (str, Path)):
        source, register = Path(register).name, read_register(register)
    else:
        source = "register"
    absent = [c for c in (id, name_column, *address_columns) if c not in register.columns]
    if absent:
        raise FrameError(
            source, [_problem(None, c, None, f"no such column; columns: {', '.join(register.columns)}") for c in absent]
        )
    outcomes = store.round_outcomes(round)
    if reminder:
        chosen = outcomes[
            (outcomes["letters"] > 0)
            & (outcomes["status"] != "complete")
            & ~outcomes["disposition"].isin([*INELIGIBLE, "refused"])
        ]
    else:
        chosen = outcomes[(outcomes["letters"] == 0) & ~outcomes["disposition"].isin(INELIGIBLE)]
    identifiers = register[id].astype(str).str.strip()
    pseudonyms = [store.pseudonymiser.pseudonymise(info["id_kind"], value) for value in identifiers]
    people = register.assign(pseudonym=pseudonyms).drop_duplicates("pseudonym").set_index("pseudonym")
    missing = chosen.loc[~chosen["pseudonym"].isin(people.index), "pseudonym"]
    if len(missing):
        raise FrameError(
            source,
            [
                _problem(
                    None,
                    id,
                    None,
                    f"{len(missing)} sampled client(s) are not in this register: "
                    "use the register the round's frame was made from",
                )
            ],
        )
    out = Path(out)
    qr_folder = out.with_name(f"{out.stem}_qr")
    qr_folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(qr_folder, 0o700)
    invited = store.invite_round(round, chosen["pseudonym"], kind="reminder" if reminder else "letter")
    base_url = settings["base_url"].rstrip("/")
    rows = []
    for number, (pseudonym, token, code) in enumerate(invited.itertuples(index=False), start=1):
        person = people.loc[pseudonym]
        link = f"{base_url}/r/{token}"
        qr_path = qr_folder / f"letter_{number:05d}.png"
        # A fixed mask pattern: any of the eight is valid (ISO/IEC 18004, 7.8); scoring all of them
        # for the most readable one took most of the time of a thousand letters.
        segno.make(link, error="m", mask=MASK).save(qr_path, scale=4, border=2)
        text = _text(settings, person[name_column], code, reminder, lang)
        rows.append(
            {
                "letter": number,
                "kind": "reminder" if reminder else "letter",
                "pseudonym": pseudonym,
                name_column: person[name_column],
                **{c: person[c] for c in address_columns},
                "link": link,
                "code": code,
                "qr": str(qr_path.relative_to(out.parent)),
                "subject": message("letters.reminder_subject" if reminder else "letters.subject", lang),
                "text": text,
            }
        )
    columns = ["letter", "kind", "pseudonym", name_column, *address_columns] + COLUMNS[3:]
    _write_private_csv(out, rows, columns)
    pdf_path = _write_pdf(rows, out, settings, lang, qr_folder) if pdf and rows else None
    return LetterSet(csv=out, qr_folder=qr_folder, pdf=pdf_path, count=len(rows))


def _text(settings: dict, name: str, code: str, reminder: bool, lang: str) -> str:
    values = {
        "name": name,
        "municipality": settings["municipality"],
        "base_url": settings["base_url"].rstrip("/"),
        "code": code,
        "weeks": settings["reply_weeks"],
        **settings["contact"],
    }
    parts = ["salutation", "reminder" if reminder else "why", "how", "when", "help", "voluntary"]
    paragraphs = [message(f"letters.{p}", lang, **values) for p in parts]
    paragraphs.append(f"{message('letters.privacy_title', lang)}: {settings['privacy'][lang].strip()}")
    sender = settings["sender"]
    function = sender["function"][lang] if isinstance(sender.get("function"), dict) else sender.get("function", "")
    paragraphs.append(f"{message('letters.closing', lang)}\n{sender['name']}\n{function}, {settings['municipality']}")
    return "\n\n".join(paragraphs)


def _write_private_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    """Write the CSV so that only its owner can read it, from the first byte on."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through os.open
    with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _write_pdf(rows: list[dict], out: Path, settings: dict, lang: str, qr_folder: Path) -> Path | None:
    from kantelmeter.web.paper import find_chromium, print_pdf

    if find_chromium() is None:
        return None
    pages = []
    for row in rows:
        image = base64.b64encode((out.parent / row["qr"]).read_bytes()).decode()
        body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in row["text"].split("\n\n"))
        address = "<br>".join(
            html.escape(str(row[c])) for c in row if c not in COLUMNS and c not in ("letter", "kind", "pseudonym")
        )
        pages.append(
            f'<section class="letter"><p class="address">{address}</p>'
            f"<h1>{html.escape(row['subject'])}</h1>{body}"
            f'<p class="link">{html.escape(row["link"])}</p>'
            f'<img alt="QR" src="data:image/png;base64,{image}"></section>'
        )
    document = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>'
        f"{html.escape(settings['municipality'])}</title><style>"
        "body{font-family:sans-serif;font-size:11pt;line-height:1.4}"
        ".letter{page-break-after:always;padding:2cm}.address{margin-bottom:2cm}"
        ".link{font-family:monospace;font-size:8pt;word-break:break-all}img{width:3.5cm}"
        f"</style></head><body>{''.join(pages)}</body></html>"
    )
    page = qr_folder / "letters.html"  # inside the private folder: it holds names and addresses too
    page.write_text(document, encoding="utf-8")
    os.chmod(page, 0o600)
    pdf_path = print_pdf(page, out.with_suffix(".pdf"))
    os.chmod(pdf_path, 0o600)
    return pdf_path
