"""China's number plan as the synthetic operator uses it: carrier prefixes, area codes, service codes,
and the noise with which switches signal the other party's number.

These are domain facts (shared/DOMAIN.md); the pipeline never reads them from here: it reads the
operator's `reference/number_ranges` file, which the generator writes from this table.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# 3-digit mobile prefixes before portability.
MOBILE_PREFIXES: dict[str, list[str]] = {
    "CMCC": "134 135 136 137 138 139 147 150 151 152 157 158 159 172 178 182 183 184 187 188 195 197 198".split(),
    "CUCC": "130 131 132 145 155 156 166 175 176 185 186 196".split(),
    "CTCC": "133 149 153 173 177 180 181 189 190 191 193 199".split(),
    "CBN": ["192"],
    # Virtual operators, by host network; 170/171 are refined by 4-digit blocks (longest prefix wins).
    "MVNO_CT": ["162", "170", "1700", "1701", "1702"],
    "MVNO_CM": ["165", "1703", "1705", "1706"],
    "MVNO_CU": ["167", "171", "1704", "1707", "1708", "1709"],
}

# Market weights of the carriers among mobile numbers that are not the home carrier's.
OFFNET_WEIGHTS: dict[str, float] = {"CUCC": 0.42, "CTCC": 0.42, "CBN": 0.06, "MVNO_CT": 0.04, "MVNO_CM": 0.03, "MVNO_CU": 0.03}

# A provincial operator (Guangdong): its regions with their area codes; fixed lines outside the province
# appear as contacts too. The carrier of a fixed line follows the incumbent of the area.
REGIONS: list[tuple[str, str]] = [
    ("guangzhou", "020"),
    ("shenzhen", "0755"),
    ("dongguan", "0769"),
    ("foshan", "0757"),
    ("zhuhai", "0756"),
]
REGION_WEIGHTS = [0.32, 0.30, 0.16, 0.14, 0.08]
OTHER_AREA_CODES: list[tuple[str, str]] = [("010", "CUCC"), ("021", "CTCC"), ("0571", "CTCC"), ("028", "CTCC")]
FIXED_CARRIER = "CTCC"  # incumbent fixed operator in the province's own area codes

# Service short codes (prefix, carrier, example numbers).
SERVICE_RANGES: list[tuple[str, str]] = [
    ("10086", "CMCC"),
    ("10010", "CUCC"),
    ("10000", "CTCC"),
    ("955", "BANK"),
    ("123", "GOV"),
    ("114", "CTCC"),
]
SERVICE_NUMBERS = ["10086", "10086", "10086", "95588", "95533", "95555", "95566", "12345", "114", "10010"]
SERVICE_WEIGHTS = np.array([0.22, 0.1, 0.1, 0.14, 0.1, 0.08, 0.06, 0.1, 0.05, 0.05])

# Access prefixes of IP long-distance calling, dialled in front of the number.
IP_PREFIXES = ["17951", "12593", "17911", "10193"]


def number_ranges_rows(home_carrier: str = "CMCC") -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for carrier, prefixes in MOBILE_PREFIXES.items():
        rows += [{"prefix": p, "carrier": carrier, "number_type": "mobile"} for p in prefixes]
    for _region, code in REGIONS:
        rows.append({"prefix": code, "carrier": FIXED_CARRIER, "number_type": "fixed"})
    for code, carrier in OTHER_AREA_CODES:
        rows.append({"prefix": code, "carrier": carrier, "number_type": "fixed"})
    rows += [{"prefix": p, "carrier": c, "number_type": "service"} for p, c in SERVICE_RANGES]
    return rows


def allocate_mobile(rng: np.random.Generator, carriers: np.ndarray, taken: set[int] | None = None) -> np.ndarray:
    """Unique 11-digit numbers (int64) whose prefix belongs to each row's carrier code."""
    n = len(carriers)
    out = np.zeros(n, dtype=np.int64)
    for carrier in np.unique(carriers):
        idx = np.flatnonzero(carriers == carrier)
        prefixes = MOBILE_PREFIXES[str(carrier)]
        three = [p for p in prefixes if len(p) == 3 and not any(q != p and q.startswith(p) for q in prefixes)]
        four = [p for p in prefixes if len(p) == 4]
        blocks = [(int(p), 10**8) for p in three] + [(int(p), 10**7) for p in four]
        pick = rng.integers(0, len(blocks), size=len(idx))
        base = np.array([b[0] * b[1] for b in blocks], dtype=np.int64)[pick]
        span = np.array([b[1] for b in blocks], dtype=np.int64)[pick]
        out[idx] = base + (rng.random(len(idx)) * span).astype(np.int64)
    # Resolve collisions (within the batch and against numbers already taken) by redrawing the suffix.
    taken = set() if taken is None else taken
    for _ in range(100):
        _, first = np.unique(out, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if taken:
            dup |= np.isin(out, np.fromiter(taken, dtype=np.int64, count=len(taken)))
        if not dup.any():
            break
        out[dup] = (out[dup] // 10**7) * 10**7 + rng.integers(0, 10**7, size=int(dup.sum()))
    else:  # pragma: no cover - only with a number space nearly full
        raise RuntimeError("could not allocate unique mobile numbers")
    return out


def allocate_fixed(rng: np.random.Generator, area_codes: np.ndarray) -> np.ndarray:
    """Fixed-line numbers: area code + 8-digit local number, as strings."""
    local = rng.integers(20_000_000, 89_999_999, size=len(area_codes))
    return np.char.add(area_codes.astype(str), local.astype(str))


def signal_numbers(
    rng: np.random.Generator, numbers: pa.Array, is_fixed: np.ndarray, outgoing_voice: np.ndarray
) -> pa.Array:
    """How a switch writes the other party: country code variants, IP-call prefixes on outgoing voice.

    `numbers` are national numbers (mobile 11 digits, fixed with area code). Service codes are passed
    with is_fixed False and should be excluded by the caller (they are written as dialled).
    """
    n = len(numbers)
    u = rng.random(n)
    prefix = np.full(n, "", dtype=object)
    strip0 = np.zeros(n, dtype=bool)
    # country code forms
    prefix[u < 0.05] = "+86"
    prefix[(u >= 0.05) & (u < 0.08)] = "0086"
    prefix[(u >= 0.08) & (u < 0.10)] = "86"
    strip0 |= (u < 0.10) & is_fixed  # +86 10 5858 1234: the trunk 0 of the area code is dropped
    # IP-call access prefix, only on outgoing voice
    ip = (u >= 0.10) & (u < 0.16) & outgoing_voice
    prefix[ip] = np.array(IP_PREFIXES, dtype=object)[rng.integers(0, len(IP_PREFIXES), int(ip.sum()))]
    body = numbers
    if strip0.any():
        body = pc.if_else(pa.array(strip0), pc.utf8_slice_codeunits(numbers, 1), numbers)
    return pc.binary_join_element_wise(pa.array(prefix, type=pa.string()), body, "")
