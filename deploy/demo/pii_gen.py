"""Synthetic Indonesian personal data: generators and validators.

This module makes *fake but structurally valid* Indonesian identifiers for
gerbang's demo API, its integration tests and the labelled personal-data
corpus.  The rules follow ``shared/spec/pii-id.md``:

* NIK (16 digits, ``PPKKCC DDMMYY SSSS``): a district code from the
  Kemendagri region table, the birth date with 40 added to the day for
  women, and a serial 0001-9999.  No check digit.
* Nomor KK (16 digits): district code, issue date DDMMYY (day 01-31, no +40),
  serial 0001-9999.
* NPWP, old format (15 digits, ``NN.NNN.NNN.C-NNN.NNN``): the 9th digit is a
  Luhn check digit over digits 1-9; digits 3-8 are never 000000.  Since 2024
  an individual's NPWP is the NIK itself (16 digits).
* Mobile numbers: ``0`` / ``62`` / ``+62`` followed by a national significant
  number of 9-12 digits that starts with an allocated operator prefix.

Everything is deterministic for a given ``random.Random`` state and uses
only the Python standard library.  Only example domains are used for e-mail.

Typical use::

    import random, pii_gen
    regions = pii_gen.load_regions()          # shared/data/regions.tsv or fallback
    people = pii_gen.generate_population(1000, seed=7, regions=regions)
    assert all(pii_gen.is_valid_nik(p["nik"], regions) for p in people)
"""

from __future__ import annotations

import datetime as _dt
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

__all__ = [
    "FIELDS", "PROVINCES", "MOBILE_PREFIXES", "EMAIL_DOMAINS", "REF_DATE",
    "Regions", "default_regions_path", "load_regions", "fallback_regions",
    "luhn_checksum", "luhn_check_digit", "luhn_valid",
    "make_nik", "make_kk", "make_npwp_old", "format_npwp_old", "make_phone",
    "make_email", "make_name", "generate_population",
    "parse_nik", "is_valid_nik", "is_valid_kk", "is_valid_npwp_old",
    "is_valid_npwp", "is_valid_phone", "normalize_phone", "is_valid_email",
]

#: Column order of a population record (also the CSV header of the demo API).
FIELDS = ("nik", "no_kk", "nama", "tanggal_lahir", "jenis_kelamin", "alamat",
          "kode_wilayah", "npwp", "no_hp", "email")

#: Fixed "today" for ages and date ranges, so output never depends on the clock.
REF_DATE = _dt.date(2025, 6, 30)

#: The 38 Kemendagri province codes (Kepmendagri 300.2.2-2138/2025).
PROVINCES = frozenset((
    "11", "12", "13", "14", "15", "16", "17", "18", "19", "21", "31", "32",
    "33", "34", "35", "36", "51", "52", "53", "61", "62", "63", "64", "65",
    "71", "72", "73", "74", "75", "76", "81", "82", "91", "92", "93", "94",
    "95", "96",
))

#: Allocated mobile operator prefixes in national form (spec section 4).
#: 0879 is only "reported" for XL and is deliberately left out.
MOBILE_PREFIXES = (
    # Telkomsel
    "0811", "0812", "0813", "0821", "0822", "0823", "0851", "0852", "0853",
    # Indosat
    "0814", "0815", "0816", "0855", "0856", "0857", "0858",
    # Tri
    "0895", "0896", "0897", "0898", "0899",
    # XL
    "0817", "0818", "0819", "0859", "0877", "0878",
    # Axis
    "0831", "0832", "0833", "0838",
    # Smartfren
    "0881", "0882", "0883", "0884", "0885", "0886", "0887", "0888", "0889",
    # Net1 / Sampoerna Telekomunikasi
    "0827", "0828",
)
_MOBILE_PREFIX_SET = frozenset(MOBILE_PREFIXES)
#: Old prefixes whose numbers can be as short as 10 digits (with the 0).
_SHORT_PREFIXES = frozenset(("0811", "0816", "0817", "0818", "0819"))

#: E-mail domains: reserved example domains only (RFC 2606) plus example.co.id.
EMAIL_DOMAINS = ("example.co.id", "example.com", "example.net", "example.org")

# Region codes embedded so the generator runs without shared/data/regions.tsv:
# one regency per province plus a few large cities, two districts each.
# Derived from the public administrative-code tables published by Kemendagri
# as compiled in https://github.com/cahyadsn/wilayah (via shared/data/regions.tsv).
_FALLBACK_REGENCIES = (
    ("1171", "Kota Banda Aceh", "0102"),
    ("1271", "Kota Medan", "0102"),
    ("1371", "Kota Padang", "0102"),
    ("1471", "Kota Pekanbaru", "0102"),
    ("1571", "Kota Jambi", "0102"),
    ("1671", "Kota Palembang", "0102"),
    ("1771", "Kota Bengkulu", "0102"),
    ("1871", "Kota Bandar Lampung", "0102"),
    ("1971", "Kota Pangkal Pinang", "0102"),
    ("2171", "Kota Batam", "0102"),
    ("3171", "Kota Administrasi Jakarta Pusat", "0102"),
    ("3174", "Kota Administrasi Jakarta Selatan", "0102"),
    ("3201", "Kabupaten Bogor", "0102"),
    ("3271", "Kota Bogor", "0102"),
    ("3273", "Kota Bandung", "0102"),
    ("3371", "Kota Magelang", "0102"),
    ("3374", "Kota Semarang", "0102"),
    ("3471", "Kota Yogyakarta", "0102"),
    ("3571", "Kota Kediri", "0102"),
    ("3578", "Kota Surabaya", "0102"),
    ("3671", "Kota Tangerang", "0102"),
    ("5171", "Kota Denpasar", "0102"),
    ("5271", "Kota Mataram", "0102"),
    ("5371", "Kota Kupang", "0102"),
    ("6171", "Kota Pontianak", "0102"),
    ("6271", "Kota Palangkaraya", "0102"),
    ("6371", "Kota Banjarmasin", "0102"),
    ("6471", "Kota Balikpapan", "0102"),
    ("6571", "Kota Tarakan", "0102"),
    ("7171", "Kota Manado", "0102"),
    ("7271", "Kota Palu", "0102"),
    ("7371", "Kota Makassar", "0102"),
    ("7471", "Kota Kendari", "0102"),
    ("7571", "Kota Gorontalo", "0102"),
    ("7601", "Kabupaten Pasangkayu", "0102"),
    ("8171", "Kota Ambon", "0102"),
    ("8271", "Kota Ternate", "0102"),
    ("9171", "Kota Jayapura", "0102"),
    ("9202", "Kabupaten Manokwari", "0304"),
    ("9301", "Kabupaten Merauke", "0102"),
    ("9401", "Kabupaten Nabire", "0102"),
    ("9501", "Kabupaten Jayawijaya", "0102"),
    ("9671", "Kota Sorong", "0102"),
)

# ---------------------------------------------------------------------------
# Region table
# ---------------------------------------------------------------------------


@dataclass
class Regions:
    """District codes usable for generation and validation.

    ``districts`` holds every 6-digit district code ever valid (current and
    historical regencies: old NIKs keep renumbered prefixes for life) and is
    what validators check against.  ``current`` lists ``(district, regency
    name)`` for regencies in the current table only; generators draw from it.
    ``in`` tests a 6-digit code against ``districts``.
    """

    districts: frozenset
    current: list
    regency_names: dict = field(default_factory=dict)
    source: str = "builtin fallback"

    def __contains__(self, code: object) -> bool:
        return code in self.districts

    def __len__(self) -> int:
        return len(self.districts)


def default_regions_path() -> Path:
    """Return ``<repo>/../shared/data/regions.tsv`` (repo = two levels up)."""
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "data" / "regions.tsv"


def fallback_regions() -> Regions:
    """Return the small built-in region table (no file needed)."""
    districts = []
    current = []
    names = {}
    for regency, name, packed in _FALLBACK_REGENCIES:
        names[regency] = name
        for i in range(0, len(packed), 2):
            code = regency + packed[i:i + 2]
            districts.append(code)
            current.append((code, name))
    return Regions(frozenset(districts), current, names, "builtin fallback")


def load_regions(path: Optional[os.PathLike | str] = None, *,
                 fallback: bool = True) -> Regions:
    """Load a region table in the ``shared/data/regions.tsv`` format.

    Lines are ``regency<TAB>name<TAB>status<TAB>districts`` where districts
    is a concatenation of 2-digit codes; ``#`` starts a comment.  With no
    path the default location is used.  If the file is missing and
    ``fallback`` is true the built-in table is returned (check
    ``.source``); otherwise ``OSError`` propagates.  A malformed line raises
    ``ValueError`` naming the file and line.
    """
    p = Path(path) if path is not None else default_regions_path()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError:
        if fallback:
            return fallback_regions()
        raise
    districts = set()
    current = []
    names = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if (len(cols) != 4 or not re.fullmatch(r"\d{4}", cols[0])
                or not re.fullmatch(r"(?:\d\d)+", cols[3])
                or cols[2] not in ("current", "historical")):
            raise ValueError(f"{p}:{lineno}: malformed region line")
        regency, name, status, packed = cols
        names[regency] = name
        for i in range(0, len(packed), 2):
            code = regency + packed[i:i + 2]
            districts.add(code)
            if status == "current":
                current.append((code, name))
    if not current:
        raise ValueError(f"{p}: no current district codes")
    return Regions(frozenset(districts), current, names, str(p))


_DEFAULT_REGIONS: Optional[Regions] = None


def _regions_or_default(regions: Optional[Regions]) -> Regions:
    """Use the given table, else the default file (loaded once) or fallback."""
    global _DEFAULT_REGIONS
    if regions is not None:
        return regions
    if _DEFAULT_REGIONS is None:
        _DEFAULT_REGIONS = load_regions()
    return _DEFAULT_REGIONS


# ---------------------------------------------------------------------------
# Luhn
# ---------------------------------------------------------------------------


def luhn_checksum(digits: str) -> int:
    """Return the Luhn sum of ``digits`` modulo 10 (0 means valid).

    Every second digit from the right, starting with the second, is doubled
    and two-digit products are replaced by their digit sum.
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i & 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10


def luhn_check_digit(payload: str) -> str:
    """Return the digit that, appended to ``payload``, makes it Luhn-valid."""
    return str((10 - luhn_checksum(payload + "0")) % 10)


def luhn_valid(digits: str) -> bool:
    """True if ``digits`` (ASCII digits only) passes the Luhn check."""
    return _is_digits(digits) and luhn_checksum(digits) == 0


# ---------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------


def _random_date(rng: random.Random, first: _dt.date,
                 last: _dt.date) -> _dt.date:
    return _dt.date.fromordinal(rng.randint(first.toordinal(),
                                            last.toordinal()))


def _pick_district(rng: random.Random,
                   regions: Optional[Regions]) -> tuple:
    return rng.choice(_regions_or_default(regions).current)


def make_nik(rng: random.Random, female: Optional[bool] = None, *,
             birth: Optional[_dt.date] = None, district: Optional[str] = None,
             serial: Optional[int] = None,
             regions: Optional[Regions] = None) -> str:
    """Return a valid 16-digit NIK.

    ``female`` adds 40 to the day (random if None); ``birth`` defaults to a
    random date 1950-2024; ``district`` (6 digits) defaults to a random
    current district of ``regions``; ``serial`` defaults to 1-9999.
    """
    if female is None:
        female = rng.random() < 0.5
    if birth is None:
        birth = _random_date(rng, _dt.date(1950, 1, 1), _dt.date(2024, 12, 31))
    if district is None:
        district = _pick_district(rng, regions)[0]
    if serial is None:
        serial = rng.randint(1, 9999)
    day = birth.day + (40 if female else 0)
    return f"{district}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def make_kk(rng: random.Random, *, district: Optional[str] = None,
            issued: Optional[_dt.date] = None, serial: Optional[int] = None,
            regions: Optional[Regions] = None) -> str:
    """Return a valid 16-digit Nomor KK (district, issue DDMMYY, serial).

    ``issued`` defaults to a random date 2005-2024.
    """
    if district is None:
        district = _pick_district(rng, regions)[0]
    if issued is None:
        issued = _random_date(rng, _dt.date(2005, 1, 1), _dt.date(2024, 12, 31))
    if serial is None:
        serial = rng.randint(1, 9999)
    return (f"{district}{issued.day:02d}{issued.month:02d}"
            f"{issued.year % 100:02d}{serial:04d}")


# Leading two digits seen on personal NPWPs (spec 3.1 and section 12: the
# explainers say 04-09, real ones also start with 21, 31, 66, 70-90).
_NPWP_KINDS = ("04", "05", "06", "07", "08", "09", "21", "24", "31", "35",
               "44", "49", "54", "58", "66", "67", "69", "70", "71", "72",
               "73", "74", "75", "76", "77", "78", "79", "80", "81", "82",
               "83", "84", "85", "86", "88", "90")


def format_npwp_old(digits: str) -> str:
    """Format 15 digits as ``NN.NNN.NNN.C-NNN.NNN``."""
    d = digits
    return f"{d[0:2]}.{d[2:5]}.{d[5:8]}.{d[8]}-{d[9:12]}.{d[12:15]}"


def make_npwp_old(rng: random.Random, formatted: bool = True) -> str:
    """Return a valid old-format NPWP (Luhn check digit, serial != 000000).

    Formatted as ``NN.NNN.NNN.C-NNN.NNN`` unless ``formatted`` is false, in
    which case 15 plain digits are returned.
    """
    kind = rng.choice(_NPWP_KINDS)
    serial = f"{rng.randint(1, 999999):06d}"
    payload = kind + serial
    kpp = f"{rng.randint(1, 999):03d}"
    r = rng.random()
    status = "000" if r < 0.9 else ("001" if r < 0.97 else "002")
    digits = payload + luhn_check_digit(payload) + kpp + status
    return format_npwp_old(digits) if formatted else digits


def make_phone(rng: random.Random, form: Optional[str] = None,
               prefix: Optional[str] = None) -> str:
    """Return a valid Indonesian mobile number.

    ``form`` is ``"0"`` (``0812...``), ``"62"`` (``62812...``) or ``"+62"``
    (``+62812...``); random (60/15/25 %) if None.  ``prefix`` is a
    national prefix from ``MOBILE_PREFIXES`` (random if None).  Lengths are
    10-13 digits counted with the leading 0: mostly 12, 10-11 only for the
    old 0811/0816-0819 prefixes.
    """
    if prefix is None:
        prefix = rng.choice(MOBILE_PREFIXES)
    if prefix not in _MOBILE_PREFIX_SET:
        raise ValueError(f"not an allocated mobile prefix: {prefix!r}")
    if prefix in _SHORT_PREFIXES:
        length = rng.choice((10, 11, 11, 12, 12, 12))
    else:
        length = rng.choice((11, 12, 12, 12, 12, 13, 13))
    rest = "".join(rng.choice("0123456789") for _ in range(length - 4))
    nsn = prefix[1:] + rest
    if form is None:
        r = rng.random()
        form = "0" if r < 0.6 else ("62" if r < 0.75 else "+62")
    if form == "0":
        return "0" + nsn
    if form in ("62", "+62"):
        return form + nsn
    raise ValueError(f"unknown phone form: {form!r}")


_MALE_NAMES = (
    "Agus", "Ahmad", "Andi", "Arief", "Bambang", "Budi", "Dedi", "Dimas",
    "Eko", "Fajar", "Gilang", "Hadi", "Hendra", "Imam", "Irfan", "Joko",
    "Kurniawan", "Made", "Muhammad", "Nyoman", "Putu", "Rahmat", "Reza",
    "Rizki", "Slamet", "Sugeng", "Taufik", "Teguh", "Wahyu", "Yusuf",
    "Yohanes", "Zainal",
)
_FEMALE_NAMES = (
    "Anisa", "Ayu", "Dewi", "Dian", "Endang", "Fitri", "Indah", "Intan",
    "Kartika", "Lestari", "Maria", "Nur", "Nurul", "Putri", "Ratna", "Rina",
    "Sari", "Siti", "Sri", "Tuti", "Wulan", "Yanti", "Yuliana", "Wayan",
)
_SECOND_NAMES = (
    "Anggraini", "Hidayat", "Gunawan", "Harahap", "Hutapea", "Kusuma",
    "Lubis", "Nasution", "Nugroho", "Pangaribuan", "Permana", "Pratama",
    "Purba", "Purnomo", "Rahayu", "Rahman", "Saputra", "Santoso", "Setiawan",
    "Siregar", "Simanjuntak", "Sitompul", "Susanto", "Syahputra", "Tanjung",
    "Utami", "Wibowo", "Widodo", "Wijaya", "Yulianti",
)
_STREETS = (
    "Merdeka", "Jend. Sudirman", "Diponegoro", "Gatot Subroto", "Ahmad Yani",
    "Pahlawan", "Mawar", "Melati", "Kenanga", "Anggrek", "Cempaka",
    "Hasanuddin", "Pemuda", "Gajah Mada", "Hayam Wuruk", "Imam Bonjol",
    "Kartini", "Teuku Umar", "Cut Nyak Dien", "Pattimura", "Sisingamangaraja",
    "Veteran", "Kemuning", "Flamboyan", "Raya Pasar",
)


def make_name(rng: random.Random, female: bool,
              second: Optional[str] = None) -> str:
    """Return a plausible Indonesian name in upper case (KTP style).

    About 6 % are single names; ``second`` forces the second name.
    """
    first = rng.choice(_FEMALE_NAMES if female else _MALE_NAMES)
    if second is None and rng.random() < 0.06:
        return first.upper()
    return f"{first} {second or rng.choice(_SECOND_NAMES)}".upper()


def make_email(rng: random.Random, name: str) -> str:
    """Return an e-mail address derived from ``name`` on an example domain."""
    parts = [re.sub(r"[^a-z0-9]", "", w) for w in name.lower().split()]
    parts = [p for p in parts if p] or ["warga"]
    sep = rng.choice((".", ".", "_", ""))
    local = sep.join(parts) + str(rng.randint(1, 999))
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def _age(birth: _dt.date, on: _dt.date = REF_DATE) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _family(rng: random.Random, regions: Regions, used_nik: set,
            used_kk: set) -> list:
    """Generate one household (1-6 people sharing a KK and an address)."""
    district, regency = rng.choice(regions.current)
    size = rng.choices((1, 2, 3, 4, 5, 6), weights=(12, 18, 22, 25, 15, 8))[0]
    street = rng.choice(_STREETS)
    alamat = (f"Jl. {street} No. {rng.randint(1, 250)}, "
              f"RT {rng.randint(1, 15):03d}/RW {rng.randint(1, 12):03d}, "
              f"{regency}").upper()

    # (female, birth, second-name-to-pass-on) per member
    members = []
    if size == 1:
        female = rng.random() < 0.5
        members.append((female, _random_date(rng, _dt.date(1950, 1, 1),
                                            _dt.date(2006, 12, 31)), None))
    else:
        head_female = rng.random() < 0.15
        head_birth = _random_date(rng, _dt.date(1950, 1, 1),
                                  _dt.date(1998, 12, 31))
        surname = rng.choice(_SECOND_NAMES)
        members.append((head_female, head_birth, surname))
        n_children = size - 1
        if rng.random() < 0.9:          # a spouse, unless single parent
            shift = _dt.timedelta(days=rng.randint(-6 * 365, 6 * 365))
            spouse_birth = min(head_birth + shift, _dt.date(1998, 12, 31))
            members.append((not head_female, spouse_birth, None))
            n_children -= 1
        first_year = head_birth.year + 19
        last_year = min(head_birth.year + 45, 2024)
        for _ in range(n_children):
            cb = _random_date(rng, _dt.date(first_year, 1, 1),
                              _dt.date(last_year, 12, 31))
            members.append((rng.random() < 0.5, cb,
                            surname if rng.random() < 0.5 else None))

    youngest = max(b for _, b, _ in members)
    issued = _random_date(rng, max(_dt.date(2005, 1, 1), youngest),
                          _dt.date(2024, 12, 31))
    while True:
        kk = make_kk(rng, district=district, issued=issued)
        if kk not in used_kk:
            used_kk.add(kk)
            break

    people = []
    for female, birth, second in members:
        # NIK prefix = place of first registration: usually here, sometimes
        # elsewhere (people who moved keep their NIK).
        nik_district = (district if rng.random() < 0.85
                        else rng.choice(regions.current)[0])
        while True:
            nik = make_nik(rng, female, birth=birth, district=nik_district)
            if nik not in used_nik:
                used_nik.add(nik)
                break
        nama = make_name(rng, female, second)
        age = _age(birth)
        if age >= 18:
            npwp = make_npwp_old(rng) if rng.random() < 0.5 else nik
        else:
            npwp = None
        no_hp = make_phone(rng) if age >= 12 else None
        email = make_email(rng, nama) if age >= 15 and rng.random() < 0.85 else None
        people.append({
            "nik": nik,
            "no_kk": kk,
            "nama": nama,
            "tanggal_lahir": birth.isoformat(),
            "jenis_kelamin": "PEREMPUAN" if female else "LAKI-LAKI",
            "alamat": alamat,
            "kode_wilayah": district,
            "npwp": npwp,
            "no_hp": no_hp,
            "email": email,
        })
    return people


def generate_population(count: int, seed: int = 0,
                        regions: Optional[Regions] = None) -> list:
    """Return ``count`` synthetic citizen records (dicts keyed by FIELDS).

    Records come in households that share ``no_kk``, ``alamat`` and
    ``kode_wilayah`` (the 6-digit district where the KK is registered); a
    member's NIK prefix is usually that district.  NIKs and KKs are unique.
    ``npwp`` is None under 18 (else half old format, half = NIK), ``no_hp``
    None under 12, ``email`` None under 15 and for ~15 % of the others.
    The output depends only on ``count``, ``seed`` and the region table.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    regions = _regions_or_default(regions)
    rng = random.Random(seed)
    used_nik: set = set()
    used_kk: set = set()
    out: list = []
    while len(out) < count:
        out.extend(_family(rng, regions, used_nik, used_kk))
    del out[count:]
    return out


# ---------------------------------------------------------------------------
# Validators
# ---------------------------------------------------------------------------

_SEPARATORS = str.maketrans("", "", " .-")


def _is_digits(s: object) -> bool:
    return isinstance(s, str) and s.isascii() and s.isdigit()


def _compact(s: object) -> Optional[str]:
    """Drop the separators seen in the wild (space, dot, dash)."""
    return s.translate(_SEPARATORS) if isinstance(s, str) else None


def _valid_ddmmyy(day: int, month: int, yy: int) -> bool:
    """True if day/month exist in 19yy or 20yy (29 Feb iff yy % 4 == 0)."""
    for century in (1900, 2000):
        try:
            _dt.date(century + yy, month, day)
            return True
        except ValueError:
            pass
    return False


def _valid_region(code: str, regions) -> bool:
    """Province list, regency 01-69/71-99, district != 00, or table lookup."""
    if code[:2] not in PROVINCES:
        return False
    regency = int(code[2:4])
    if not (1 <= regency <= 69 or 71 <= regency <= 99):
        return False
    if code[4:6] == "00":
        return False
    return regions is None or code in regions


def parse_nik(s: str) -> Optional[dict]:
    """Split a 16-digit NIK into its fields, or return None if not 16 digits.

    Returns ``{"district", "day", "month", "yy", "female", "serial"}`` where
    ``day`` already has the +40 removed.  No validity check is done.
    """
    d = _compact(s)
    if not _is_digits(d) or len(d) != 16:
        return None
    day = int(d[6:8])
    female = day > 40
    return {"district": d[:6], "day": day - 40 if female else day,
            "month": int(d[8:10]), "yy": int(d[10:12]), "female": female,
            "serial": int(d[12:16])}


def is_valid_nik(s: object, regions=None) -> bool:
    """True if ``s`` is a structurally valid NIK (separators allowed).

    Checks 16 digits, province, regency range, district != 00, a real
    (day-40 for women, month, yy) date and serial != 0000.  If ``regions``
    (a ``Regions`` or any container of 6-digit codes) is given, the 6-digit
    prefix must be in it.
    """
    d = _compact(s)
    if not _is_digits(d) or len(d) != 16:
        return False
    if not _valid_region(d[:6], regions):
        return False
    day = int(d[6:8])
    if day > 40:
        day -= 40
    if not _valid_ddmmyy(day, int(d[8:10]), int(d[10:12])):
        return False
    return d[12:16] != "0000"


def is_valid_kk(s: object, regions=None) -> bool:
    """True if ``s`` is a valid Nomor KK: as a NIK but the day is 01-31."""
    d = _compact(s)
    if not _is_digits(d) or len(d) != 16:
        return False
    if not _valid_region(d[:6], regions):
        return False
    if not _valid_ddmmyy(int(d[6:8]), int(d[8:10]), int(d[10:12])):
        return False
    return d[12:16] != "0000"


def is_valid_npwp_old(s: object) -> bool:
    """True if ``s`` is a valid 15-digit NPWP.

    Accepts 15 plain digits or the usual separators
    (``01.312.166.0-091.000``); requires serial (digits 3-8) != 000000 and a
    valid Luhn check digit over digits 1-9.
    """
    d = _compact(s)
    if not _is_digits(d) or len(d) != 15:
        return False
    if d[2:8] == "000000":
        return False
    return luhn_checksum(d[:9]) == 0


def is_valid_npwp(s: object, regions=None) -> bool:
    """True for any current NPWP form: old 15 digits, 0 + old 15, or a NIK."""
    d = _compact(s)
    if not _is_digits(d):
        return False
    if len(d) == 15:
        return is_valid_npwp_old(d)
    if len(d) == 16:
        return is_valid_npwp_old(d[1:]) if d[0] == "0" else is_valid_nik(d, regions)
    return False


_PHONE_STRIP = str.maketrans("", "", " -.()")
_MOBILE_NSN_LOOSE = re.compile(r"8[1-35-9][0-9]{7,10}")


def normalize_phone(s: object, strict: bool = True) -> Optional[str]:
    """Return ``62`` + NSN for a valid mobile number, else None.

    Accepts ``0``/``62``/``+62`` forms with spaces, dashes, dots and
    parentheses (``(+62) 812-3456-7890``).  The NSN must have 9-12 digits;
    ``strict`` requires an allocated operator prefix from
    ``MOBILE_PREFIXES``, otherwise libphonenumber's ``8[1-35-9]`` is used.
    """
    if not isinstance(s, str):
        return None
    c = s.translate(_PHONE_STRIP)
    if c.startswith("+62"):
        nsn = c[3:]
    elif c.startswith("62"):
        nsn = c[2:]
    elif c.startswith("0"):
        nsn = c[1:]
    else:
        return None
    if not _is_digits(nsn) or not _MOBILE_NSN_LOOSE.fullmatch(nsn):
        return None
    if strict and "0" + nsn[:3] not in _MOBILE_PREFIX_SET:
        return None
    return "62" + nsn


def is_valid_phone(s: object, strict: bool = True) -> bool:
    """True if ``s`` is a valid Indonesian mobile number (see normalize_phone)."""
    return normalize_phone(s, strict) is not None


# WHATWG "valid e-mail address" plus a 2+ letter TLD (spec section 9).
_EMAIL_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}")


def is_valid_email(s: object) -> bool:
    """True if ``s`` is a valid e-mail address (WHATWG rule, TLD >= 2 letters)."""
    return isinstance(s, str) and s.isascii() and bool(_EMAIL_RE.fullmatch(s))


def _self_check(values: Iterable[str]) -> None:  # pragma: no cover
    """Print each value with the validators' verdicts (``python3 pii_gen.py x``)."""
    regions = load_regions()
    for v in values:
        print(f"{v}: nik={is_valid_nik(v, regions)} kk={is_valid_kk(v, regions)} "
              f"npwp={is_valid_npwp(v, regions)} phone={is_valid_phone(v)} "
              f"email={is_valid_email(v)}")


if __name__ == "__main__":  # pragma: no cover
    import sys
    if len(sys.argv) > 1:
        _self_check(sys.argv[1:])
    else:
        import json
        for rec in generate_population(5, seed=1):
            print(json.dumps(rec, ensure_ascii=False))
