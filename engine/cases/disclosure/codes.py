"""The code tables of the two exports, as validated settings objects.

Both regulators type many report fields as codes from tables the schemas do not carry:
FINTRAC's integer option codes, and each FIU's goAML lookup values. The defaults shipped
in ``schemas/reference/fintrac_codes.json`` and ``goaml_codes.json`` are **placeholders**
(``placeholder: true``) that make the exports validate; an operator replaces them with the
published tables before filing. Loading checks that every contract channel and transaction
type is mapped and that the values have the right shape, and names what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

from engine.cases.disclosure.errors import CodeTableError
from schemas import CHANNELS, TXN_TYPES, data_path

FINTRAC_CODES_FILE = "reference/fintrac_codes.json"
GOAML_SETTINGS_FILE = "reference/goaml_codes.json"


@dataclass(frozen=True)
class FintracCodes:
    """FINTRAC option codes and reporting-entity settings used by :func:`to_fintrac_str`.

    Every integer is an option code from FINTRAC's code tables (1..99999), except the
    reporting entity number (0..9,999,999, from enrolment) and the contact id.
    ``placeholder`` is true while the values are the shipped illustrative defaults.
    """

    reporting_entity_number: int
    contact_id: int
    report_type: int  # reportDetails.reportTypeCode
    submit_type: int  # reportDetails.submitTypeCode
    ppp_projects: Mapping[str, int]  # alert ppp_code -> publicPrivatePartnershipProjectNameCodes
    method_by_channel: Mapping[
        str, int
    ]  # CONTRACT channel -> suspiciousTransactionDetails.methodCode
    fund_type_by_txn_type: Mapping[
        str, int
    ]  # txn_type -> startingActions.details.fundAssetVirtualCurrencyTypeCode
    disposition_by_txn_type: Mapping[
        str, int
    ]  # txn_type -> completingActions.details.dispositionCode
    account_type: int  # account.typeCode of the subject's accounts
    default_location_id: str  # reportingEntityLocationId when a transaction has no branch id
    action_taken: str  # actionTaken.description (FINTRAC rejects a report without it)
    submitting_reporting_entity_number: int | None = None  # defaults to reporting_entity_number
    activity_sector: int | None = None  # reportDetails.activitySectorCode, omitted when None
    suspicion_type: int | None = None  # detailsOfSuspicion.suspicionTypeCode, omitted when None
    placeholder: bool = False

    @classmethod
    def load(cls, path: Path | str | None = None) -> FintracCodes:
        """Codes from a JSON file (default: the shipped placeholder table)."""
        path = Path(path) if path is not None else data_path(FINTRAC_CODES_FILE)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CodeTableError(f"FINTRAC code table {path}: cannot be read ({exc})") from exc
        return cls.from_mapping(data, where=str(path))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "FINTRAC codes") -> FintracCodes:
        names = {f.name for f in fields(cls)}
        unknown = sorted(k for k in data if k not in names and not k.startswith("_"))
        if unknown:
            raise CodeTableError(
                f"{where}: unknown keys {unknown}; expected some of {sorted(names)}"
            )
        missing = sorted(f.name for f in fields(cls) if f.default is MISSING and f.name not in data)
        if missing:
            raise CodeTableError(f"{where}: missing keys {missing}")
        codes = cls(**{k: v for k, v in data.items() if k in names})
        codes._check(where)
        return codes

    def _check(self, where: str) -> None:
        problems = []
        for name, keys in (
            ("method_by_channel", CHANNELS),
            ("fund_type_by_txn_type", TXN_TYPES),
            ("disposition_by_txn_type", TXN_TYPES),
        ):
            table = getattr(self, name)
            absent = [k for k in keys if k not in table]
            if absent:
                problems.append(f"{name} lacks {absent}")
            problems += [
                f"{name}[{k!r}] = {v!r} is not an option code (integer 1..99999)"
                for k, v in table.items()
                if not _is_code(v)
            ]
        problems += [
            f"ppp_projects[{k!r}] = {v!r} is not an option code"
            for k, v in self.ppp_projects.items()
            if not _is_code(v)
        ]
        if "PROTECT" not in self.ppp_projects:
            problems.append("ppp_projects has no 'PROTECT' entry")
        for name in (
            "report_type",
            "submit_type",
            "account_type",
            "activity_sector",
            "suspicion_type",
        ):
            value = getattr(self, name)
            if value is not None and not _is_code(value):
                problems.append(f"{name} = {value!r} is not an option code (integer 1..99999)")
        for name in ("reporting_entity_number", "submitting_reporting_entity_number"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and 0 <= value <= 9_999_999):
                problems.append(f"{name} = {value!r}: expected an integer 0..9999999")
        if not isinstance(self.contact_id, int):
            problems.append(f"contact_id = {self.contact_id!r}: expected an integer")
        if not (
            isinstance(self.default_location_id, str) and 0 < len(self.default_location_id) <= 30
        ):
            problems.append(
                f"default_location_id = {self.default_location_id!r}: expected 1..30 characters"
            )
        if problems:
            raise CodeTableError(f"{where}: " + "; ".join(problems))


def _is_code(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 99_999


@cache
def default_codes() -> FintracCodes:
    return FintracCodes.load()


@dataclass(frozen=True)
class GoamlSettings:
    """Reporting-entity registration and lookup mappings for :func:`to_goaml_xml`."""

    rentity_id: int
    rentity_branch: str
    institution_name: str
    institution_code: str
    branch: str
    reporting_person: Mapping[str, str]  # first_name, last_name, optional occupation / email
    location: Mapping[str, str]  # address, city, country_code, optional state / zip
    action: str
    transmode_by_channel: Mapping[str, str]  # CONTRACT channel -> conduction_type
    from_funds_by_txn_type: Mapping[str, str]  # txn_type -> funds_type of the from side
    to_funds_by_txn_type: Mapping[str, str]  # txn_type -> funds_type of the to side
    account_type: str = "-"
    account_status: str = "-"
    signatory_role: str = "-"
    address_type: str = "-"
    phone_contact_type: str = "-"
    phone_communication_type: str = "-"
    # "PROTECT" / indicator id -> report_indicator_type code
    report_indicators: Mapping[str, str] = field(default_factory=dict)
    default_indicator: str = "-"  # used when no id maps (the element needs at least one)
    submission_code: str = "E"
    report_code: str = "STR"
    local_currency: str = "CAD"
    default_country: str = "CA"
    default_phone_prefix: str = "1"
    unknown_text: str = "UNKNOWN"
    unknown_date: str = "1900-01-01"
    emit_51_elements: bool = True
    placeholder: bool = False

    @classmethod
    def load(cls, path: Path | str | None = None) -> GoamlSettings:
        path = Path(path) if path is not None else data_path(GOAML_SETTINGS_FILE)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CodeTableError(f"goAML settings {path}: cannot be read ({exc})") from exc
        return cls.from_mapping(data, where=str(path))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "goAML settings") -> GoamlSettings:
        names = {f.name for f in fields(cls)}
        unknown = sorted(k for k in data if k not in names and not k.startswith("_"))
        required = [
            f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
        ]
        missing = sorted(name for name in required if name not in data)
        problems = [f"unknown keys {unknown}"] if unknown else []
        problems += [f"missing keys {missing}"] if missing else []
        if not problems:
            for name, keys in (
                ("transmode_by_channel", CHANNELS),
                ("from_funds_by_txn_type", TXN_TYPES),
                ("to_funds_by_txn_type", TXN_TYPES),
            ):
                absent = [k for k in keys if k not in data[name]]
                if absent:
                    problems.append(f"{name} lacks {absent}")
            for key in ("first_name", "last_name"):
                if not data["reporting_person"].get(key):
                    problems.append(f"reporting_person.{key} is required")
            for key in ("address", "city", "country_code"):
                if not data["location"].get(key):
                    problems.append(f"location.{key} is required")
            if not isinstance(data["rentity_id"], int) or data["rentity_id"] < 1:
                problems.append(f"rentity_id = {data['rentity_id']!r}: expected an integer >= 1")
        if problems:
            raise CodeTableError(f"{where}: " + "; ".join(problems))
        return cls(**{k: v for k, v in data.items() if k in names})


@cache
def default_settings() -> GoamlSettings:
    return GoamlSettings.load()
