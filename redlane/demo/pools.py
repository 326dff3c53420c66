"""Pools of companies, persons and addresses, built once per run from the seed with Faker.

Records then sample pool rows with numpy (`take` on Arrow columns), so Faker runs a few
thousand times per run, not once per record. Names are folded to Latin script, as they appear
on manifests and in machine-readable travel documents.
"""

# Transliteration tables hold Cyrillic and Greek letters on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from faker import Faker

IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]

#: Faker locale per country; countries without a Latin-script locale get names from `_asian`.
LOCALES: dict[str, str] = {
    "EC": "es_ES", "CO": "es_CO", "PE": "es_ES", "BR": "pt_BR", "DO": "es_ES", "PA": "es_ES",
    "JM": "en_US", "CR": "es_ES", "GT": "es_MX", "CL": "es_CL", "AR": "es_AR", "UY": "es_AR",
    "VE": "es_ES", "MX": "es_MX", "US": "en_US", "CA": "en_CA", "MA": "fr_FR", "EG": "en_US",
    "AE": "en_US", "QA": "en_US", "ZA": "en_GB", "NG": "en_GB", "GH": "en_GB", "SN": "fr_FR",
    "ET": "en_US", "KE": "en_GB", "IN": "en_IN", "LK": "en_IN", "SG": "en_GB", "MY": "en_GB",
    "VN": "vi_VN", "NL": "nl_NL", "BE": "nl_BE", "DE": "de_DE", "ES": "es_ES", "FR": "fr_FR",
    "PT": "pt_PT", "IT": "it_IT", "AT": "de_AT", "HU": "hu_HU", "SI": "sl_SI", "HR": "hr_HR",
    "TR": "tr_TR", "BG": "bg_BG", "RS": "hr_HR", "MK": "bg_BG", "AL": "it_IT", "GR": "el_GR",
    "RO": "ro_RO", "GB": "en_GB", "IE": "en_IE", "PL": "pl_PL", "CV": "pt_PT", "GP": "fr_FR",
    "MQ": "fr_FR", "AG": "en_GB", "LC": "en_GB", "VC": "en_GB", "BB": "en_GB", "CM": "fr_FR",
    "CN": "zh_CN", "HK": "zh_CN", "TW": "zh_CN", "KR": "zh_CN", "JP": "ja_JP", "IR": "en_US",
}  # fmt: skip

_ROMANIZED = {"zh_CN", "ja_JP"}

_CYR = (
    "а:a б:b в:v г:g д:d е:e ж:zh з:z и:i й:y к:k л:l м:m н:n "
    "о:o п:p р:r с:s т:t у:u ф:f х:h ц:ts ч:ch ш:sh щ:sht ъ:a ь: "
    "ю:yu я:ya ј:j љ:lj њ:nj ћ:c ђ:dj џ:dz ѓ:gj ќ:kj ѕ:dz "
)
_GRK = (
    "α:a β:v γ:g δ:d ε:e ζ:z η:i θ:th ι:i κ:k λ:l μ:m ν:n ξ:x "
    "ο:o π:p ρ:r σ:s ς:s τ:t υ:y φ:f χ:ch ψ:ps ω:o ά:a έ:e ή:i "
    "ί:i ό:o ύ:y ώ:o ϊ:i ΐ:i ϋ:y ΰ:y "
)
_OTHER = "ı:i ß:ss ø:o æ:ae đ:d ł:l"


def _pairs(spec: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in spec.split():
        src, dst = pair.split(":")
        out[src] = dst
        if len(src.upper()) == 1:
            out[src.upper()] = dst.capitalize()
    return out


_TRANSLIT = str.maketrans(_pairs(_CYR) | _pairs(_GRK) | _pairs(_OTHER))


def latin(value: str) -> str:
    """Fold to plain Latin letters: transliterate Greek/Cyrillic, drop diacritics."""
    value = value.translate(_TRANSLIT)
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return " ".join(folded.split())


def mrz_name(value: str) -> str:
    """A name as the MRZ writes it: A-Z, other characters become '<'."""
    out = "".join(c if "A" <= c <= "Z" else "<" for c in latin(value).upper())
    return out.strip("<") or "X"


_INDUSTRY = (
    "Trading", "Import Export", "Logistics", "Foods", "Fresh Produce", "Industrial",
    "Distribution", "Supplies", "Global", "International", "Commerce", "Agro",
)  # fmt: skip
_SUFFIX = {
    "NL": "B.V.", "BE": "BV", "DE": "GmbH", "AT": "GmbH", "ES": "S.L.", "FR": "SARL",
    "IT": "S.r.l.", "PT": "Lda", "BR": "Ltda", "CO": "S.A.S.", "EC": "S.A.", "PE": "S.A.C.",
    "TR": "Ltd. Sti.", "GR": "A.E.", "BG": "EOOD", "RS": "d.o.o.", "HR": "d.o.o.",
    "SI": "d.o.o.", "MK": "DOOEL", "AL": "Sh.p.k.", "RO": "S.R.L.", "HU": "Kft.",
}  # fmt: skip
EU_COUNTRIES = frozenset(
    {"NL", "BE", "DE", "ES", "FR", "PT", "IT", "AT", "HU", "SI", "HR", "BG", "GR", "RO", "PL", "IE"}
)

PARTY_COLUMNS = ("kind", "name", "street", "city", "postcode", "country", "eori", "vat")
PARTY_COLUMNS_ALL = (*PARTY_COLUMNS, "phone", "email")


@dataclass(frozen=True)
class Pool:
    """Parties sorted by country; rows of one country are `start[c] : start[c] + count[c]`."""

    table: pa.Table
    countries: tuple[str, ...]
    start: IntArray
    count: IntArray

    def pick(self, country: StrArray, u: npt.NDArray[np.float64], skew: float = 1.0) -> IntArray:
        """Row indices of parties of the given countries; `skew` > 1 favours the first rows,
        which makes a few frequent traders and a long tail, as in real trade."""
        ci = np.searchsorted(np.array(self.countries), country)
        ci = np.clip(ci, 0, len(self.countries) - 1)
        known = np.array(self.countries)[ci] == country
        # A country without its own parties borrows the first country's (rare: pools cover all).
        ci = np.where(known, ci, 0)
        off = np.minimum((u**skew * self.count[ci]).astype(np.int64), self.count[ci] - 1)
        return np.asarray(self.start[ci] + off, dtype=np.int64)


@dataclass(frozen=True)
class Names:
    """First and last names per country (Latin script), for travellers and private parties."""

    countries: tuple[str, ...]
    first_m: StrArray  # (n_countries, k)
    first_f: StrArray
    last: StrArray


def _faker(locale: str, seed: int) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(seed)
    return fake


def _company_name(fake: Faker, locale: str, country: str, rng: np.random.Generator) -> str:
    if locale in _ROMANIZED or rng.random() < 0.35:
        base = fake.last_romanized_name() if locale in _ROMANIZED else latin(fake.last_name())
        industry = _INDUSTRY[int(rng.integers(len(_INDUSTRY)))]
        return f"{base} {industry} {_SUFFIX.get(country, 'Co., Ltd.')}"
    return latin(str(fake.company()))


def _address(fake: Faker, locale: str, city: str | None) -> tuple[str, str, str]:
    if locale in _ROMANIZED:
        n = fake.random_int(1, 999)
        return f"No. {n} {fake.last_romanized_name()} Road", city or "Shanghai", fake.postcode()
    return latin(fake.street_address()), latin(city or fake.city()), str(fake.postcode())


def _phone(country: str, rng: np.random.Generator) -> str:
    # A stable pseudo dialling code: str hash() is salted per process, which would break
    # byte-identical output.
    dial = sum(map(ord, country)) % 90 + 10
    return f"+{dial} {rng.integers(100, 999)} {rng.integers(1000, 9999)}"


def build_companies(
    seed: int, weights: dict[str, float], total: int, cities: dict[str, list[str]]
) -> Pool:
    """`total` organisations spread over countries by weight, each with an address."""
    rng = np.random.default_rng([seed, 11])
    countries = sorted(weights)
    w = np.array([weights[c] for c in countries])
    counts = np.maximum(20, (w / w.sum() * total).astype(np.int64))
    cols: dict[str, list[str | None]] = {c: [] for c in PARTY_COLUMNS_ALL}
    for ci, (country, n) in enumerate(zip(countries, counts, strict=True)):
        locale = LOCALES.get(country, "en_US")
        fake = _faker(locale, seed * 1000 + ci)
        city_list = cities.get(country)
        for i in range(int(n)):
            name = _company_name(fake, locale, country, rng)
            city = city_list[int(rng.integers(len(city_list)))] if city_list else None
            street, city_s, post = _address(fake, locale, city)
            cols["kind"].append("organisation")
            cols["name"].append(name)
            cols["street"].append(street)
            cols["city"].append(city_s)
            cols["postcode"].append(post)
            cols["country"].append(country)
            in_eu = country in EU_COUNTRIES
            cols["eori"].append(f"{country}{seed % 97:02d}{ci:03d}{i:06d}" if in_eu else None)
            cols["vat"].append(f"{country}{900000000 + ci * 50000 + i}" if in_eu else None)
            cols["phone"].append(_phone(country, rng))
            slug = "".join(ch for ch in name.lower() if ch.isalnum())[:14] or "trade"
            cols["email"].append(f"info@{slug}.com")
    table = pa.table({c: pa.array(v, pa.string()) for c, v in cols.items()})
    start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return Pool(table, tuple(countries), start, counts.astype(np.int64))


def build_names(seed: int, countries: list[str], k: int = 200) -> Names:
    """`k` male, female and family names per country."""
    countries = sorted(set(countries))
    fm = np.empty((len(countries), k), dtype="<U40")
    ff = np.empty((len(countries), k), dtype="<U40")
    ln = np.empty((len(countries), k), dtype="<U40")
    for ci, country in enumerate(countries):
        locale = LOCALES.get(country, "en_US")
        fake = _faker(locale, seed * 7919 + ci)
        roman = locale in _ROMANIZED
        for j in range(k):
            fm[ci, j] = fake.first_romanized_name() if roman else latin(fake.first_name_male())
            ff[ci, j] = fake.first_romanized_name() if roman else latin(fake.first_name_female())
            ln[ci, j] = fake.last_romanized_name() if roman else latin(fake.last_name())
    return Names(tuple(countries), fm, ff, ln)


def build_persons(seed: int, names: Names, per_country: int, cities: dict[str, list[str]]) -> Pool:
    """Private persons with a home address, for walk-in shippers, private consignees, owners."""
    rng = np.random.default_rng([seed, 13])
    cols: dict[str, list[str | None]] = {c: [] for c in PARTY_COLUMNS_ALL}
    for ci, country in enumerate(names.countries):
        locale = LOCALES.get(country, "en_US")
        fake = _faker(locale, seed * 104729 + ci)
        city_list = cities.get(country)
        for _ in range(per_country):
            female = bool(rng.random() < 0.5)
            first = (names.first_f if female else names.first_m)[
                ci, int(rng.integers(names.last.shape[1]))
            ]
            last = names.last[ci, int(rng.integers(names.last.shape[1]))]
            city = city_list[int(rng.integers(len(city_list)))] if city_list else None
            street, city_s, post = _address(fake, locale, city)
            cols["kind"].append("person")
            cols["name"].append(f"{first} {last}")
            cols["street"].append(street)
            cols["city"].append(city_s)
            cols["postcode"].append(post)
            cols["country"].append(country)
            cols["eori"].append(None)
            cols["vat"].append(None)
            cols["phone"].append(_phone(country, rng))
            mail = "gmail.com" if rng.random() < 0.6 else "hotmail.com"
            cols["email"].append(f"{latin(first).lower()}.{latin(last).lower()}@{mail}")
    n = len(names.countries)
    table = pa.table({c: pa.array(v, pa.string()) for c, v in cols.items()})
    start = np.arange(n, dtype=np.int64) * per_country
    return Pool(table, names.countries, start, np.full(n, per_country, dtype=np.int64))
