from datetime import date

import pytest

from groupscope.period import Period


def test_period_arithmetic():
    p = Period.parse("2024-02")
    assert str(p) == "2024-02"
    assert p.start == date(2024, 2, 1) and p.end == date(2024, 2, 29)  # leap year
    assert len(p.days()) == 29 and p.days()[-1] == date(2024, 2, 29)
    assert str(Period.parse("2026-01").previous) == "2025-12"
    assert str(Period.parse("2026-12").shift(1)) == "2027-01"
    assert [str(x) for x in Period.parse("2026-02").back(3)] == ["2026-02", "2026-01", "2025-12"]
    assert Period.parse("2025-12") < Period.parse("2026-01")
    assert Period.parse(p) is p


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-01", "2026-00", ""])
def test_period_rejects_bad_text(bad):
    with pytest.raises(ValueError, match="YYYY-MM"):
        Period.parse(bad)
