"""The case record of issue 16, first part: the missing topics of the professional list, and the
regiehouder, case dates and werkprocesnummer of the intake record, kept as pseudonyms."""

from __future__ import annotations

import pandas as pd

from kantelmeter import Store, load_instrument
from kantelmeter.io import export_responses, import_responses

BSN = "111222333"


def test_the_professional_list_asks_the_topics_of_appendix_5_it_lacked():
    professional = load_instrument("professional")
    section = next(s for s in professional.sections if s.id == "beyond_the_pilot")
    assert [item.id for item in section.items] == [
        "contact_outside_pilot",
        "view_of_citizens_changed",
        "view_of_citizens_text",
        "municipal_task",
        "regular_work_influenced",
        "regular_work_text",
        "colleagues_positive",
        "colleagues_text",
        "suitable_skills_text",
    ]
    # the seed asks municipal staff only about the municipality's task and about their colleagues
    municipal = {item.id for item in section.items if item.show_if == "organisation == 1"}
    assert municipal == {"municipal_task", "colleagues_positive", "colleagues_text", "suitable_skills_text"}
    assert all(item.text.nl != item.text.en for item in section.items)


def test_the_intake_record_keeps_regiehouder_and_werkprocesnummer_as_pseudonyms_only(tmp_path):
    record = load_instrument("intake_record")
    assert (record.item("regiehouder").identifier, record.item("regiehouder").required) == ("staff", True)
    assert record.item("werkprocesnummer").identifier == "case_number"
    store = Store(f"sqlite:///{tmp_path / 'k.db'}", key_file=tmp_path / "k.key")
    rows = pd.DataFrame(
        {
            "bsn": [BSN, "123456782"],
            "client_number": ["K1", "K2"],
            "intake_date": ["2010-05-28"] * 2,
            "regiehouder": ["M07", "M07"],
            "werkprocesnummer": ["WP-2010-0042", "WP-2010-0043"],
            "case_opened": ["2010-05-28", "2010-06-01"],
            "case_closed": ["2010-08-20", ""],
            "problem_statement": ["schulden", "eenzaam"],
            "agreements": ["budgetcoach", "maatje"],
        }
    )
    rows.to_csv(tmp_path / "records.csv", index=False)
    import_responses(store, record, "intake", tmp_path / "records.csv", respondent="bsn")
    stored = store.responses(record).set_index("respondent")
    staff = store.pseudonym("staff", "M07")
    assert stored.regiehouder.tolist() == [staff, staff]  # one regiehouder, one pseudonym: cases stay linkable
    assert staff != store.pseudonym("name", "M07") and staff != store.pseudonym("client_number", "M07")
    assert set(stored.werkprocesnummer) == {
        store.pseudonym("case_number", "WP-2010-0042"),
        store.pseudonym("case_number", "WP-2010-0043"),
    }
    assert stored.loc[store.pseudonym("bsn", BSN), "case_closed"] == pd.Timestamp("2010-08-20")
    assert pd.isna(stored.loc[store.pseudonym("bsn", "123456782"), "case_closed"])
    out, *_ = export_responses(store, record, tmp_path / "records_out.csv")
    text = out.read_text()
    assert "M07" not in text and "WP-2010" not in text and BSN not in text
