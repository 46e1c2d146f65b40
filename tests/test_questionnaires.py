"""The shipped instruments: they validate, and their keys are the published ones."""

import re
from importlib import resources

import pytest

from kantelmeter.instruments import ItemType, list_instruments, load_instrument, theoretical_range

SHIPPED = ["citizen", "intake_record", "participation_wheel", "professional", "soc13", "soc29", "uwes9"]
WHEEL_DOMAINS = [
    "maatschappelijke_bijdragen",
    "opdoen_vaardigheden",
    "eigen_inkomen",
    "zelfstandig_functioneren",
    "sociale_contacten",
    "maatschappelijk_deelnemen",
]


def keyed(instrument, scale_id):
    """Item numbers of a scale split by key, for instruments whose items are named <prefix><number>."""
    keys = instrument.scale(scale_id).keys
    number = {item: int(re.sub(r"\D", "", item)) for item in keys}
    return (sorted(number[i] for i, k in keys.items() if k > 0), sorted(number[i] for i, k in keys.items() if k < 0))


def test_every_instrument_is_shipped_and_validates():
    assert set(SHIPPED) <= set(list_instruments())
    for instrument_id in list_instruments():
        instrument = load_instrument(instrument_id)
        assert instrument.id == instrument_id
        for scale in instrument.scales:
            if scale.range is not None:
                assert tuple(scale.range) == theoretical_range(instrument, scale)


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_every_file_validates_by_path(instrument_id):
    path = resources.files("kantelmeter.questionnaires") / f"{instrument_id}.yaml"
    assert load_instrument(path).id == instrument_id


def test_soc13_key_is_the_published_one():
    soc = load_instrument("soc13")
    members = {
        scale: sorted(int(i.removeprefix("soc")) for i in soc.scale(scale).keys)
        for scale in ("comprehensibility", "manageability", "meaningfulness")
    }
    assert members == {
        "comprehensibility": [2, 6, 8, 9, 11],
        "manageability": [3, 5, 10, 13],
        "meaningfulness": [1, 4, 7, 12],
    }
    _, reversed_items = keyed(soc, "soc_total")
    assert reversed_items == [1, 2, 3, 7, 10]
    assert soc.scale("soc_total").range == (13, 91)
    assert soc.response_scales["seven_point"].valid_codes == list(range(1, 8))


def test_soc29_components_and_range():
    soc = load_instrument("soc29")
    sizes = {scale: len(soc.scale(scale).items) for scale in ("comprehensibility", "manageability", "meaningfulness")}
    assert sizes == {"comprehensibility": 11, "manageability": 10, "meaningfulness": 8}
    assert soc.scale("soc_total").range == (29, 203)
    assert [i.id for i in soc.items] == [f"soc{n}" for n in range(1, 30)]
    components = [set(soc.scale(s).keys) for s in ("comprehensibility", "manageability", "meaningfulness")]
    assert set().union(*components) == set(soc.scale("soc_total").keys) and sum(map(len, components)) == 29
    # Every component keys an item as the total does.
    total = soc.scale("soc_total").keys
    assert all(
        soc.scale(s).keys[i] == total[i]
        for s in ("comprehensibility", "manageability", "meaningfulness")
        for i in soc.scale(s).keys
    )
    assert keyed(soc, "soc_total")[1] == [1, 4, 5, 6, 7, 11, 13, 14, 16, 20, 23, 25, 27]


def test_soc13_items_are_soc29_items_with_the_same_component_and_key():
    # Antonovsky (1987): the short form keeps SOC-29 items 4, 5, 6, 8, 9, 12, 16, 19, 21, 25, 26, 28, 29.
    short_to_long = dict(zip(range(1, 14), [4, 5, 6, 8, 9, 12, 16, 19, 21, 25, 26, 28, 29]))
    soc13, soc29 = load_instrument("soc13"), load_instrument("soc29")

    def component(instrument, item):
        return next(
            s for s in ("comprehensibility", "manageability", "meaningfulness") if item in instrument.scale(s).keys
        )

    for short, long in short_to_long.items():
        assert component(soc13, f"soc{short}") == component(soc29, f"soc{long}")
        assert soc13.scale("soc_total").keys[f"soc{short}"] == soc29.scale("soc_total").keys[f"soc{long}"]


def test_uwes9_key():
    uwes = load_instrument("uwes9")
    members = {s: keyed(uwes, s) for s in ("vigour", "dedication", "absorption")}
    assert members == {"vigour": ([1, 2, 5], []), "dedication": ([3, 4, 7], []), "absorption": ([6, 8, 9], [])}
    assert uwes.response_scales["frequency7"].valid_codes == list(range(7))
    assert uwes.scale("work_engagement").range == (0, 6)


def test_participation_wheel_has_the_six_domains_in_order():
    wheel = load_instrument("participation_wheel")
    assert [section.id for section in wheel.sections] == WHEEL_DOMAINS
    assert [scale.id for scale in wheel.scales] == WHEEL_DOMAINS
    for section in wheel.sections:
        level, attribution = (wheel.item(f"{section.id}_level"), wheel.item(f"{section.id}_attribution"))
        assert [item.id for item in section.items] == [level.id, attribution.id]
        assert wheel.valid_codes(level) == [1, 2, 3, 4, 5]
        assert wheel.missing_codes(level) == [9]
        assert wheel.response_scale_of(attribution).valid_codes == [1, 2, 3]
        assert wheel.scale(section.id).keys == {level.id: 1}
        assert wheel.scale(section.id).range == (1, 5)
    assert all(not i.id.endswith("_attribution") for i in wheel.items_at("intake"))
    assert len(wheel.items_at("follow_up")) == 12


def test_every_citizen_ceo_item_uses_agree5_with_missing_codes():
    citizen = load_instrument("citizen")
    ceo = [item for item in citizen.items if item.id.startswith("ceo_")]
    assert len(ceo) == 9
    assert {"ceo_effect_do", "ceo_effect_cope", "ceo_effect_quality"} <= {item.id for item in ceo}
    for item in ceo:
        assert item.response_scale == "agree5"
        assert citizen.valid_codes(item) == [1, 2, 3, 4, 5]
        assert citizen.missing_codes(item) == [8, 9]
        assert item.help is None and "CEO" in item.note.nl and "CEO" in item.note.en  # for analysts only
    ceo_scales = {s: set(citizen.scale(s).keys) for s in ("ceo_access", "ceo_quality", "ceo_effect")}
    assert set().union(*ceo_scales.values()) == {item.id for item in ceo}


def test_citizen_scales_and_reverse_keyed_items():
    citizen = load_instrument("citizen")
    satisfaction, benefit = citizen.scale("satisfaction_professional"), citizen.scale("perceived_benefit")
    assert len(benefit.items) >= 3
    assert -1 in satisfaction.keys.values() and -1 in benefit.keys.values()
    assert satisfaction.min_answered == round(2 / 3 * len(satisfaction.items))
    assert citizen.item("ladder_rung").type is ItemType.single_choice
    assert citizen.valid_codes("ladder_rung") == [1, 2, 3, 4]
    assert citizen.item("wellbeing") in citizen.items_at("intake") and citizen.item("wellbeing") in citizen.items_at(
        "follow_up"
    )
    assert citizen.item("wellbeing_then_recalled") not in citizen.items_at("intake")


def test_professional_scales_have_three_items_and_a_reverse_key():
    professional = load_instrument("professional")
    for scale_id in (
        "work_enjoyment",
        "work_motivation",
        "autonomy",
        "collaboration",
        "emotional_load",
        "time_pressure",
        "management_support",
    ):
        keys = professional.scale(scale_id).keys
        assert len(keys) >= 3 and -1 in keys.values(), scale_id
    assert len(professional.scale("competences").items) == 8
    assert professional.item("role_service_vs_helper").anchors["min"].nl == "dienstverlener"
    assert professional.valid_codes("role_distance_vs_closeness") == list(range(1, 8))
    assert professional.occasions == [f"wave_{n}" for n in range(1, 6)]


@pytest.mark.parametrize("instrument_id", ["soc13", "soc29", "uwes9"])
def test_licensed_instruments_ship_placeholders_only(instrument_id):
    instrument = load_instrument(instrument_id)
    assert instrument.licence.text_restricted
    label = instrument_id.upper().replace("SOC", "SOC-").replace("UWES", "UWES-")
    for item in instrument.items:
        number = item.id.removeprefix("soc").removeprefix("uwes")
        assert re.fullmatch(rf"{label} vraag {number} \(\w+; tekst onder licentie\)", item.text.nl), item.text.nl
        assert re.fullmatch(rf"{label} question {number} \(\w+; licensed wording\)", item.text.en), item.text.en
        assert item.help is None


def test_only_licensed_instruments_are_restricted():
    restricted = {i for i in list_instruments() if load_instrument(i).licence.text_restricted}
    assert restricted == {"soc13", "soc29", "uwes9"}


def test_intake_record_marks_its_identifiers():
    record = load_instrument("intake_record")
    assert {item.id: item.identifier for item in record.identifiers} == {
        "client_number": "client_number",
        "name": "name",
        "bsn": "bsn",
        "regiehouder": "staff",
        "werkprocesnummer": "case_number",
        "first_rater": "staff",
        "second_rater": "staff",
    }
    assert all(item.type is ItemType.text for item in record.identifiers)
    assert record.occasions == ["intake"]
    ratings = [item for item in record.items if item.id.endswith("_rating")]
    assert len(ratings) == 9
    assert all(record.item(item.id.replace("_rating", "_note")).type is ItemType.text for item in ratings)
