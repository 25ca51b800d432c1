"""Merchants, billers, ATMs and branches, per city.

Descriptors look like acquirer descriptors (``LOBLAWS #0412 TORONTO``). Chain names are
companies, not people. Ordinary descriptors never contain terms from the escort-ad or
escort-memo lists in ``schemas/reference/default_lists.json``; only the ring and
independent-worker code uses those on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.synthetic.identity import stable_id
from engine.synthetic.places import CITIES


@dataclass(frozen=True, slots=True)
class Merchant:
    merchant_id: str
    name: str
    mcc: str
    city: int  # -1 for online merchants


@dataclass(frozen=True, slots=True)
class Terminal:
    """An ATM or a branch; deposits are only possible at FI-owned ATMs and branches."""

    location_id: str
    city: int
    owner: str  # "fi" | "white_label" | "branch"


def _mcc(mcc: str, *names: str) -> tuple[tuple[str, str], ...]:
    """(name, mcc) pairs for several chains sharing one MCC."""
    return tuple((name, mcc) for name in names)


# Card-present chains per category: (descriptor stem, MCC).
CHAINS: dict[str, tuple[tuple[str, str], ...]] = {
    "grocery": _mcc("5411", "LOBLAWS", "METRO", "SOBEYS", "NO FRILLS", "FOOD BASICS",
                    "SAVE-ON-FOODS", "IGA", "MAXI", "FRESHCO", "WALMART SUPERCENTER")
    + (("COSTCO WHOLESALE", "5300"),),
    "convenience": _mcc("5499", "CIRCLE K", "COUCHE-TARD", "7-ELEVEN", "MAC'S CONV",
                        "DEPANNEUR DU COIN"),
    "restaurant": _mcc("5812", "THE KEG", "EAST SIDE MARIOS", "BOSTON PIZZA", "MOXIES",
                       "SUSHI GARDEN", "PHO NGUYEN", "LA BELLA TRATTORIA", "CACTUS CLUB CAFE"),
    "fastfood": _mcc("5814", "MCDONALD'S", "TIM HORTONS", "A&W", "SUBWAY", "HARVEY'S",
                     "PIZZA PIZZA", "POPEYES", "STARBUCKS"),
    "gas": _mcc("5542", "PETRO-CANADA", "ESSO", "SHELL", "ULTRAMAR", "HUSKY", "PIONEER"),
    "pharmacy": _mcc("5912", "SHOPPERS DRUG MART", "REXALL", "JEAN COUTU", "LONDON DRUGS",
                     "PHARMASAVE"),
    "clothing": _mcc("5651", "WINNERS", "OLD NAVY", "H&M")
    + (("SPORT CHEK", "5941"), ("MARK'S", "5691"), ("ARDENE", "5621"), ("LA VIE EN ROSE", "5621"),
       ("ALDO", "5661")),
    "department": (("CANADIAN TIRE", "5311"), ("HUDSON'S BAY", "5311"), ("DOLLARAMA", "5331"),
                   ("HOME DEPOT", "5200"), ("BEST BUY", "5732"), ("IKEA", "5712")),
    "bar": _mcc("5813", "THE PINT", "DUKE OF YORK PUB", "STEAMWHISTLE TAPROOM")
    + (("CINEPLEX", "7832"), ("GOODLIFE FITNESS", "7997")),
    "beauty": _mcc("5977", "SEPHORA", "BATH & BODY WORKS")
    + _mcc("7230", "NAIL STUDIO", "FIRST CHOICE HAIRCUTTERS"),
    "luxury": _mcc("5651", "GUCCI", "CANADA GOOSE", "BALENCIAGA", "PRADA")
    + _mcc("5944", "CARTIER", "ROLEX BOUTIQUE", "BIRKS JEWELLERS")
    + (("LOUIS VUITTON", "5948"), ("HOLT RENFREW", "5311")),
    "nightclub": _mcc("5813", "CLUB VELVET", "LUXE LOUNGE", "ROOFTOP 88", "NOIR NIGHTCLUB"),
    "cardealer": _mcc("5511", "PORSCHE CENTRE", "MASERATI", "BMW", "MERCEDES-BENZ"),
    # Hotel-brand MCCs (3501-3999) and plain 7011 motels, as in schemas/mcc_codes.csv.
    "hotel": (("HOLIDAY INN EXPRESS", "3501"), ("BEST WESTERN", "3502"), ("HILTON", "3504"),
              ("MARRIOTT", "3509"), ("DAYS INN", "3510"), ("COMFORT INN", "3562"),
              ("DELTA HOTELS", "3581"), ("TRAVELODGE", "3615"), ("RAMADA", "3637"),
              ("RADISSON", "3649"), ("HAMPTON INN", "3665"), ("MOTEL 6", "3700"))
    + _mcc("7011", "SUPER 8", "ECONO LODGE", "AIRPORT INN", "SUNSET MOTEL", "HIGHWAY MOTOR INN"),
    "carrental": _mcc("7512", "ENTERPRISE RENT-A-CAR", "BUDGET RENT A CAR", "NATIONAL CAR RENTAL"),
}  # fmt: skip
# Online merchants: (descriptor, MCC, currency).
ONLINE: dict[str, tuple[tuple[str, str, str], ...]] = {
    "ecom": (("AMAZON.CA", "5942", "CAD"), ("AMZN MKTP CA", "5999", "CAD"),
             ("WALMART.CA", "5311", "CAD"), ("BESTBUY.CA", "5732", "CAD"),
             ("ETSY.COM", "5999", "USD"), ("STEAMGAMES.COM", "5816", "USD"),
             ("SHEIN.COM", "5651", "USD"), ("INDIGO.CA", "5942", "CAD"),
             ("UBER EATS", "5812", "CAD"), ("SKIPTHEDISHES", "5812", "CAD"),
             ("DOORDASH", "5812", "CAD"), ("APPLE.COM/BILL", "5818", "CAD")),
    "ride": (("UBER TRIP", "4121", "CAD"), ("LYFT RIDE", "4121", "CAD")),
    "airline": (("AIR CANADA", "3009", "CAD"), ("WESTJET", "4511", "CAD"),
                ("PORTER AIRLINES", "4511", "CAD"), ("FLAIR AIRLINES", "4511", "CAD")),
    "lodging_platform": (("AIRBNB * HM", "7011", "CAD"), ("BOOKING.COM HOTEL", "4722", "CAD"),
                         ("EXPEDIA", "4722", "CAD"), ("HOTELS.COM", "4722", "CAD")),
    "subscription": (("NETFLIX.COM", "4899", "CAD"), ("SPOTIFY", "5815", "CAD"),
                     ("DISNEY PLUS", "4899", "CAD"), ("CRAVE", "4899", "CAD"),
                     ("GOOGLE *STORAGE", "5818", "CAD")),
    # Escort / classified-ad platforms (default_lists.json `escort_ad_platforms`): ring and
    # independent-worker rows only. Some bill in USD, as foreign platforms do.
    "escort_ad": (("LEOLIST.CC", "7311", "CAD"), ("TRYST.LINK", "7311", "USD"),
                  ("SKIPTHEGAMES.EU", "5967", "USD"), ("PRIVATEDELIGHTS.CH", "7311", "USD"),
                  ("LEOLIST.CC ADS", "5967", "CAD"), ("EROS.COM", "7311", "USD"),
                  ("MEGAPERSONALS", "5967", "USD")),
    "vc": (("SHAKEPAY", "6051", "CAD"), ("BITBUY", "6051", "CAD"),
           ("NEWTON CRYPTO", "6051", "CAD")),
    # Online gift-card sellers (default_lists.json `gift_card_sellers`): gift-card buyers.
    "gift_card": (("EGIFTER.COM", "5947", "CAD"), ("GIFTCARDS.COM", "5947", "USD"),
                  ("VANILLA PREPAID", "6540", "CAD")),
}  # fmt: skip
# Abroad (holiday destinations): local chains instead of Canadian ones, by country.
ABROAD_CHAINS: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "US": {
        "grocery": _mcc("5411", "WHOLE FOODS MARKET", "WALMART", "TRADER JOE'S"),
        "convenience": _mcc("5499", "7-ELEVEN", "WAWA") + (("DUANE READE", "5912"),),
        "restaurant": _mcc("5812", "CHEESECAKE FACTORY", "HARBOR GRILL", "OLIVE GARDEN"),
        "gas": _mcc("5542", "CHEVRON", "EXXONMOBIL", "SHELL"),
        "pharmacy": _mcc("5912", "CVS PHARMACY", "WALGREENS"),
        "clothing": _mcc("5651", "GAP", "OLD NAVY") + (("NIKE STORE", "5661"),),
        "department": _mcc("5311", "TARGET", "MACY'S") + (("BEST BUY", "5732"),),
    },
    "MX": {
        "grocery": _mcc("5411", "CHEDRAUI", "WALMART", "SORIANA"),
        "convenience": _mcc("5499", "OXXO", "7-ELEVEN"),
        "restaurant": _mcc("5812", "LA CASA DEL MAR", "TAQUERIA EL FARO", "PUERTO MADERO"),
        "gas": _mcc("5542", "PEMEX", "BP"),
        "pharmacy": _mcc("5912", "FARMACIAS GUADALAJARA", "FARMACIA DEL AHORRO"),
        "clothing": (("LIVERPOOL", "5311"), ("ZARA", "5651")),
        "department": _mcc("5311", "LIVERPOOL", "SEARS MEXICO"),
    },
}
AD_PREMIUM = ("PREMIUM", "BUMP", "FEATURED", "TOP AD")

# Billers by province: (name, MCC). Telecom and streaming are national.
UTILITIES = {
    "ON": (("HYDRO ONE", "4900"), ("ENBRIDGE GAS", "4900")), "QC": (("HYDRO-QUEBEC", "4900"),),
    "BC": (("BC HYDRO", "4900"), ("FORTISBC", "4900")),
    "AB": (("ENMAX", "4900"), ("EPCOR", "4900")),
    "MB": (("MANITOBA HYDRO", "4900"),), "SK": (("SASKPOWER", "4900"), ("SASKENERGY", "4900")),
    "NS": (("NOVA SCOTIA POWER", "4900"),), "NB": (("NB POWER", "4900"),),
    "NL": (("NEWFOUNDLAND POWER", "4900"),), "PE": (("MARITIME ELECTRIC", "4900"),),
    "YT": (("ATCO ELECTRIC YUKON", "4900"),), "NT": (("NORTHLAND UTILITIES", "4900"),),
}  # fmt: skip
TELECOM = (
    ("ROGERS", "4814"), ("BELL CANADA", "4814"), ("TELUS", "4814"), ("FREEDOM MOBILE", "4814"),
    ("VIDEOTRON", "4899"), ("FIDO", "4814"), ("KOODO", "4814"),
)  # fmt: skip
INSURANCE = (
    ("INTACT INSURANCE", "6300"), ("DESJARDINS INSURANCE", "6300"), ("TD INSURANCE", "6300"),
)  # fmt: skip


class Catalogue:
    """Per-city pools of merchants and terminals, built once from the population RNG."""

    def __init__(self, rng: np.random.Generator):
        self.pools: dict[tuple[int, str], list[Merchant]] = {}
        self.online: dict[str, list[tuple[Merchant, str]]] = {}
        self.atms: list[list[Terminal]] = []
        self.deposit_atms: list[list[Terminal]] = []
        self.branches: list[list[Terminal]] = []
        for ci, city in enumerate(CITIES):
            size = max(1.0, city.weight / 150.0)  # bigger cities: more stores and ATMs
            for cat, chains in CHAINS.items():
                if city.country != "CA":
                    chains = ABROAD_CHAINS[city.country].get(cat, chains)
                n = int(
                    min(40, 2 + size * (3 if cat in ("grocery", "fastfood", "restaurant") else 1.5))
                )
                picks = rng.integers(0, len(chains), size=n)
                self.pools[(ci, cat)] = [
                    Merchant(
                        stable_id("m", ci, cat, k),
                        f"{chains[p][0]} #{int(rng.integers(1, 9999)):04d} {city.name.upper()}",
                        chains[p][1],
                        ci,
                    )
                    for k, p in enumerate(picks)
                ]
            n_atm = int(min(160, 6 + size * 8))
            owners = rng.random(n_atm) < 0.72
            atms = [
                Terminal(f"ATM-{city.code}-{k:04d}", ci, "fi" if o else "white_label")
                for k, o in enumerate(owners)
            ]
            self.atms.append(atms)
            self.deposit_atms.append([t for t in atms if t.owner == "fi"] or atms[:1])
            self.branches.append(
                [
                    Terminal(f"BR-{city.code}-{k:03d}", ci, "branch")
                    for k in range(int(min(40, 1 + size * 2)))
                ]
            )
        for cat, items in ONLINE.items():
            self.online[cat] = [
                (Merchant(stable_id("m", "online", name), name, mcc, -1), cur)
                for name, mcc, cur in items
            ]

    def pool(self, city: int, category: str) -> list[Merchant]:
        """Card-present merchants of ``category`` in ``city``."""
        return self.pools[(city, category)]
