"""CEO-comparable indicators: % (fully) agree among valid answers."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from kantelmeter import ceo
from kantelmeter.instruments import load_instrument


@pytest.fixture(scope="module")
def citizen():
    return load_instrument("citizen")


def test_missing_codes_leave_numerator_and_denominator(citizen):
    # 6 valid answers (codes 1-5), 4 of them agree (4 or 5); "don't know" (8), "n.a." (9) and a blank are left out
    frame = pd.DataFrame(
        {
            "respondent": [f"r{i}" for i in range(9)],
            "cohort": ["regular"] * 9,
            "ceo_effect_cope": [5, 4, 4, 5, 1, 3, 8, 9, np.nan],
        }
    )
    row = ceo.indicators(citizen, frame).set_index("item").loc["ceo_effect_cope"]
    assert (row["n_valid"], row["n_agree"]) == (6, 4)
    assert row["pct_agree"] == pytest.approx(100 * 4 / 6)
    low, high = proportion_confint(4, 6, method="wilson")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((100 * low, 100 * high))


def test_groups_are_counted_apart_and_absent_items_skipped(citizen):
    frame = pd.DataFrame(
        {
            "respondent": list("abcd"),
            "cohort": ["pilot", "pilot", "regular", "regular"],
            "ceo_access_quick": [5, 2, 4, 4],
        }
    )
    table = ceo.indicators(citizen, frame)
    assert table["item"].unique().tolist() == ["ceo_access_quick"]
    assert table.set_index("cohort")["pct_agree"].to_dict() == {"pilot": 50.0, "regular": 100.0}


def test_nobody_valid_gives_nan_not_zero(citizen):
    frame = pd.DataFrame({"respondent": ["a"], "cohort": ["pilot"], "ceo_quality_good": [8]})
    row = ceo.indicators(citizen, frame).iloc[0]
    assert row["n_valid"] == 0
    assert np.isnan(row["pct_agree"])


def test_top_three_and_ungrouped(citizen):
    frame = pd.DataFrame({"respondent": list("abcd"), "ceo_quality_good": [3, 2, 4, 5]})
    row = ceo.indicators(citizen, frame, by=None, top=3).iloc[0]
    assert row["n_agree"] == 3


def test_bad_arguments_are_named(citizen):
    frame = pd.DataFrame({"respondent": ["a"], "ceo_quality_good": [3]})
    with pytest.raises(ValueError, match="grouping column.*cohort not in the responses"):
        ceo.indicators(citizen, frame)
    with pytest.raises(ValueError, match="no CEO themes"):
        ceo.themes(load_instrument("soc13"))
    with pytest.raises(ValueError, match="an out-of-range code|allowed"):
        ceo.indicators(citizen, frame.assign(ceo_quality_good=6), by=None)


def test_a_client_without_contact_is_routed_past_the_access_items_on_the_web(tmp_path, citizen):
    import re

    from test_web import TestClient, answer, open_page

    from kantelmeter.routing import asked
    from kantelmeter.store import Store
    from kantelmeter.web.app import create_app
    from kantelmeter.web.forms import pages, visible_items

    store = Store(f"sqlite:///{tmp_path / 'k.db'}", key_file=tmp_path / "k.key")
    store.register_instrument(citizen)
    client = TestClient(create_app(store), follow_redirects=False)
    for token, contact in zip(store.create_invitations(citizen, "follow_up", 3), ("1", "2", "1")):
        url = f"/r/{token}"
        # what the page script showed once the answer was ticked (the cliëntondersteuner question after 'yes')
        page = next(p for p in pages(citizen, "follow_up") if p.id == "ceo_context")
        shown = ",".join(item.id for item in visible_items(citizen, page, {"support_contact": int(contact)}))
        assert answer(client, f"{url}?page=ceo_context", {"support_contact": contact}, shown=shown) == f"{url}?page=ceo"
        page = open_page(client, f"{url}?page=ceo").text
        drawn_hidden = re.search(r'id="q-ceo_access_quick"[^>]*data-show-if="[^"]*support_contact[^"]*" hidden', page)
        assert bool(drawn_hidden) == (contact == "2")
        # a browser without the page script sends the access answer too; the server clears it behind the routing
        answer(client, f"{url}?page=ceo", {"ceo_access_quick": "2" if contact == "2" else "4", "ceo_quality_good": "5"})
    wide = store.responses(citizen, occasion="follow_up", include_partial=True)
    store.close()
    assert wide["ceo_access_quick"].isna().tolist() == (wide["support_contact"] == 2).tolist()
    table = ceo.indicators(citizen, wide, by=None).set_index("item")
    # the client routed past the access item is not in its denominator: 2 of 2 with contact agree, not 2 of 3
    assert (table.loc["ceo_access_quick", "n_valid"], table.loc["ceo_access_quick", "pct_agree"]) == (2, 100.0)
    assert table.loc["ceo_quality_good", "n_valid"] == 3
    routed = asked(citizen, wide)
    assert routed["ceo_access_quick"].tolist() == (wide["support_contact"] == 1).tolist()
    assert routed["ceo_quality_good"].all() and not routed["client_support_used"].any()
