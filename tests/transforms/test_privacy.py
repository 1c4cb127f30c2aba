import duckdb
import pyarrow as pa
import pytest

from transforms.privacy import mask, number_key, pseudonymise, pseudonyms_sql

NUMBERS = ["13812341234", "01058581234", "1234567", "12", "1", "", "8613812341234123456789"]


@pytest.mark.parametrize("key", [b"0123456789abcdef", b"k" * 64, b"a much longer secret key than one block of sha-256 " * 3])
def test_sql_pseudonyms_equal_the_reference_hmac(key):
    t = pseudonymise(pa.array(NUMBERS + [None, "13812341234"]), key).to_pylist()
    assert [r["msisdn"] for r in t] == sorted(set(NUMBERS))  # distinct, sorted, no null
    for r in t:
        assert r["number_key"] == number_key(key, r["msisdn"])
        assert r["number_masked"] == mask(r["msisdn"])


def test_mask_by_hand():
    assert mask("13812341234") == "138****1234"
    assert mask("1234567") == "*****67"
    assert mask("12") == "12"


def test_pseudonyms_sql_over_a_relation():
    con = duckdb.connect()
    con.execute("CREATE TABLE n AS SELECT * FROM (VALUES ('13900001111'), ('13900001111'), (NULL)) AS t(msisdn)")
    rows = con.execute(pseudonyms_sql("n", b"0123456789abcdef")).fetchall()
    assert rows == [("13900001111", number_key(b"0123456789abcdef", "13900001111"), "139****1111")]


def test_short_key_refused():
    with pytest.raises(ValueError, match="at least 16 bytes"):
        pseudonyms_sql("n", b"short")
