"""BSN eleven-test and keyed pseudonyms."""

import hashlib
import hmac
import os
import re
import stat

import numpy as np
import pandas as pd
import pytest

from kantelmeter.privacy import BSNError, KeyFileError, Pseudonymiser, is_valid_bsn, validate_bsn

WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1])


def generated_bsns(n: int, seed: int = 1) -> list[str]:
    """Valid BSNs made independently of the module: draw 8 digits, solve for the ninth."""
    rng = np.random.default_rng(seed)
    found = []
    while len(found) < n:
        head = rng.integers(0, 10, size=8)
        last = int(WEIGHTS[:8] @ head) % 11  # the check digit d9 must equal the weighted sum mod 11
        if last < 10 and (head.any() or last):
            found.append("".join(map(str, head)) + str(last))
    return found


@pytest.mark.parametrize("bsn", ["111222333", "123456782", "012345672", *generated_bsns(20)])
def test_valid_bsns(bsn):
    assert validate_bsn(bsn) == bsn
    assert is_valid_bsn(bsn)
    assert validate_bsn(f" {bsn[:4]}.{bsn[4:6]}.{bsn[6:]} ") == bsn


def test_every_single_digit_change_is_caught():
    # The eleven-test detects any one wrong digit (the weights are distinct and non-zero mod 11).
    for bsn in generated_bsns(10, seed=2):
        for position in range(9):
            for digit in "0123456789":
                wrong = bsn[:position] + digit + bsn[position + 1 :]
                if wrong != bsn and wrong != "000000000":
                    assert not is_valid_bsn(wrong), wrong


def test_eight_digits_get_the_leading_zero_back():
    assert validate_bsn(12345672) == "012345672"
    assert validate_bsn("12345672") == "012345672"


@pytest.mark.parametrize(
    "value, reason",
    [
        ("111222334", "fails the eleven-test"),
        ("123456789", "fails the eleven-test"),
        ("000000000", "all zeros"),
        ("00000000", "all zeros"),
        ("1234567", "has 7 digits"),
        ("1112223330", "has 10 digits"),
        ("11122233a", "characters other than digits"),
        ("١١١٢٢٢٣٣٣", "characters other than digits"),  # Arabic-Indic digits pass str.isdigit
        (-111222333, "characters other than digits"),
        (111222333.0, "type float"),
        (True, "type bool"),
        (None, "type NoneType"),
    ],
)
def test_invalid_bsns(value, reason):
    assert not is_valid_bsn(value)
    with pytest.raises(BSNError, match=reason):
        validate_bsn(value)


def test_error_names_the_place_and_masks_the_number():
    with pytest.raises(BSNError) as info:
        validate_bsn("111222334", where="intake.csv row 7, field 'bsn'")
    message = str(info.value)
    assert message.startswith("intake.csv row 7, field 'bsn': BSN *****2334 fails")
    assert "111222334" not in message and "11122" not in message


@pytest.fixture
def key_file(tmp_path):
    return tmp_path / "keys" / "pseudonym.key"


def test_key_file_is_created_on_first_use_owner_only(key_file):
    pseudonymiser = Pseudonymiser(key_file)
    assert not key_file.exists()  # constructing does not touch the disk
    pseudonymiser.pseudonymise("name", "Jan")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert len(key_file.read_bytes()) == 32
    assert str(key_file) in repr(pseudonymiser) and key_file.read_bytes().hex() not in repr(pseudonymiser)


def test_pseudonym_is_the_documented_hmac(key_file):
    key_file.parent.mkdir()
    key = bytes(range(32))
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(descriptor, key)
    os.close(descriptor)
    expected = "p-" + hmac.new(key, b"bsn\x1f111222333", hashlib.sha256).hexdigest()[:20]
    assert Pseudonymiser(key_file).pseudonymise("bsn", "111222333") == expected
    assert key_file.read_bytes() == key  # an existing key is never replaced


def test_pseudonyms_are_stable_per_key_and_differ_across_keys(tmp_path, key_file):
    first = Pseudonymiser(key_file).pseudonymise("bsn", "111222333")
    assert Pseudonymiser(key_file).pseudonymise("bsn", 111222333) == first
    assert Pseudonymiser(tmp_path / "other.key").pseudonymise("bsn", "111222333") != first
    assert re.fullmatch(r"p-[0-9a-f]{20}", first)


def test_normalisation_of_names_and_kinds(key_file):
    p = Pseudonymiser(key_file)
    variants = ["Jan de Vries", "  jan   DE\tvries ", "JAN DE VRIES", "Jan de\u00a0Vries"]  # non-breaking space
    assert len({p.pseudonymise("name", v) for v in variants}) == 1
    assert p.pseudonymise("name", "José") == p.pseudonymise("name", "Jose\u0301")  # NFC vs NFD
    assert p.pseudonymise("name", "Jan de Vries") != p.pseudonymise("name", "Jan de Vries-Bakker")
    # Client numbers keep their case; the kind separates domains.
    assert p.pseudonymise("client_number", "AB12") != p.pseudonymise("client_number", "ab12")
    assert p.pseudonymise("name", "111222333") != p.pseudonymise("bsn", "111222333")
    with pytest.raises(ValueError, match="kind 'BSN' is not allowed"):
        p.pseudonymise("BSN", "111222333")
    with pytest.raises(ValueError, match="an empty name is not allowed"):
        p.pseudonymise("name", "   ")


def test_no_plain_text_in_pseudonyms(key_file):
    # A fixed key makes the check deterministic: with a random key a 5-digit run of
    # some BSN turns up in 20 hex digits by chance in about 1 run in 250.
    key_file.parent.mkdir(mode=0o700)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(descriptor, bytes(range(32)))
    os.close(descriptor)
    p = Pseudonymiser(key_file)
    for bsn in generated_bsns(50, seed=3):
        pseudonym = p.pseudonymise("bsn", bsn)
        assert bsn not in pseudonym
        assert not any(bsn[i : i + 5] in pseudonym for i in range(5))
    for name in ["Jan de Vries", "Fatima el Amrani", "Piet"]:
        pseudonym = p.pseudonymise("name", name)
        assert not any(part.lower() in pseudonym for part in name.split() if len(part) > 2)


def test_invalid_bsn_is_refused_before_hashing(key_file):
    with pytest.raises(BSNError, match=r"intake.xlsx row 3, field 'bsn': BSN \*\*\*\*\*2334"):
        Pseudonymiser(key_file).pseudonymise_series(
            "bsn", pd.Series(["111222333", "111222334"], index=[2, 3], name="bsn"), source="intake.xlsx"
        )


def test_series_keeps_missing_values(key_file):
    p = Pseudonymiser(key_file)
    result = p.pseudonymise_series("name", pd.Series(["Jan", None, "jan"], index=["a", "b", "c"]))
    assert result.isna().tolist() == [False, True, False]
    assert result["a"] == result["c"] == p.pseudonymise("name", "JAN")


def test_key_file_readable_by_others_is_refused(key_file):
    Pseudonymiser(key_file).pseudonymise("name", "Jan")
    key_file.chmod(0o644)
    with pytest.raises(KeyFileError, match=r"has mode 0644.*allowed: 0600.*chmod 600"):
        Pseudonymiser(key_file).pseudonymise("name", "Jan")


def test_truncated_key_file_is_refused(key_file):
    key_file.parent.mkdir()
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(descriptor, b"short")
    os.close(descriptor)
    with pytest.raises(KeyFileError, match="holds 5 bytes; allowed: exactly 32 bytes"):
        Pseudonymiser(key_file).pseudonymise("name", "Jan")


def test_key_file_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KANTELMETER_KEY_FILE", str(tmp_path / "env.key"))
    assert Pseudonymiser().key_file == tmp_path / "env.key"
    monkeypatch.delenv("KANTELMETER_KEY_FILE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Pseudonymiser().key_file == tmp_path / ".config" / "kantelmeter" / "pseudonym.key"
