"""Where people live: each council's postcode pool and its share of the population."""

from __future__ import annotations

from collections.abc import Sequence

from faker import Faker

from boldhub.schemas.organisations import Organisation
from boldhub.synth.draws import Draws

# Real postcode districts of each council, so that exports look like the places they claim
# to come from. Councils not listed fall back to outward codes taken from Faker.
_DISTRICTS: dict[str, tuple[str, ...]] = {
    "E08000025": ("B5", "B6", "B8", "B10", "B11", "B12", "B13", "B15", "B16", "B18", "B21", "B29"),
    "E06000023": ("BS1", "BS2", "BS3", "BS4", "BS5", "BS6", "BS7", "BS13", "BS16"),
    "E07000178": ("OX1", "OX2", "OX3", "OX4"),
    "E08000003": ("M1", "M4", "M8", "M9", "M11", "M13", "M14", "M20", "M22"),
    "E06000018": ("NG1", "NG2", "NG3", "NG5", "NG6", "NG7", "NG8", "NG11"),
    "E08000021": ("NE1", "NE2", "NE3", "NE4", "NE5", "NE6", "NE7", "NE15"),
    "E06000043": ("BN1", "BN2", "BN3", "BN41"),
    "E07000008": ("CB1", "CB2", "CB3", "CB4", "CB5"),
    "E06000010": ("HU1", "HU2", "HU3", "HU4", "HU5", "HU6", "HU7", "HU8", "HU9"),
    "E08000035": ("LS1", "LS2", "LS4", "LS6", "LS7", "LS8", "LS9", "LS11", "LS12", "LS14"),
}

# Resident populations in thousands (ONS mid-year estimates, rounded): big cities get more
# of the synthetic population, so small councils get the small counts that disclosure
# control has to deal with.
_WEIGHTS: dict[str, float] = {
    "E08000025": 1145,
    "E06000023": 472,
    "E07000178": 162,
    "E08000003": 552,
    "E06000018": 324,
    "E08000021": 300,
    "E06000043": 277,
    "E07000008": 146,
    "E06000010": 267,
    "E08000035": 812,
}
_DEFAULT_WEIGHT = 300.0
_POSTCODES_PER_COUNCIL = 300
# England has about 1.5 million residential postcodes for 57 million people: a council's
# pool grows with its residents so that a large population is not crowded into a few
# hundred postcodes (which would make every postcode shared by thousands of people).
_PERSONS_PER_POSTCODE = 40

# Inward-code letters never include C, I, K, M, O or V.
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


class Places:
    """The chosen councils' postcode pools (``pools[c]``) and population weights."""

    def __init__(
        self, councils: Sequence[Organisation], persons: int, draws: Draws, fake: Faker
    ) -> None:
        self.count = len(councils)
        self.pool_size = max(
            _POSTCODES_PER_COUNCIL, round(persons / max(len(councils), 1) / _PERSONS_PER_POSTCODE)
        )
        self.pools = [self._postcode_pool(c.code, draws, fake) for c in councils]
        self.weights = [_WEIGHTS.get(c.code, _DEFAULT_WEIGHT) for c in councils]

    def _postcode_pool(self, code: str, draws: Draws, fake: Faker) -> list[str]:
        rng = draws.rng
        districts = _DISTRICTS.get(code)
        if districts is None:
            outward = [str(fake.postcode()).split()[0] for _ in range(4)]
            districts = tuple(dict.fromkeys(outward))
        pool: list[str] = []
        seen: set[str] = set()
        while len(pool) < self.pool_size:
            pc = (
                f"{rng.choice(districts)} {rng.randint(1, 9)}"
                f"{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
            )
            if pc not in seen:
                seen.add(pc)
                pool.append(pc)
        return pool
