"""PP-20 · Multiple devices accessing one account (ID)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators.columns import DAY, ECOM, EMPTY_TS, MOBILE, ONLINE
from indicators.examples import example, txn
from indicators.jit import kernel
from indicators.spec import IndicatorSpec, Param, StateArray
from indicators.windows import keyed_distinct, keyed_touch, select_evidence, window

DEVICES = 16  # distinct devices kept per customer


@kernel
def multiple_devices(
    cust: NDArray[np.int64],
    seq: NDArray[np.int64],
    ts: NDArray[np.int64],
    channel: NDArray[np.int8],
    device: NDArray[np.int64],
    attempted: NDArray[np.int8],
    dev_key: NDArray[np.int64],
    dev_ts: NDArray[np.int64],
    dev_ref: NDArray[np.int64],
    window_days: int,
    min_devices: int,
    fired: NDArray[np.uint8],
    observed: NDArray[np.float64],
    evidence: NDArray[np.int64],
    touched: NDArray[np.uint8],
) -> None:
    """Distinct devices (``device_id``, else ``ip``) on online, mobile and e-commerce rows.

    A keyed table remembers when each device was last used; fires on a device row when the
    devices used in ``(t - window_days, t]`` reach ``min_devices``. Evidence: the latest row
    of each such device, newest first.

    polars equivalent, per customer: filter ``channel in (online, mobile, ecom) & device !=
    0``, ``rolling(index_column="ts", period=f"{window_days}d").agg(pl.col("device")
    .n_unique())``.
    """
    width = np.int64(window_days * DAY)
    for i in range(cust.shape[0]):
        if attempted[i] != 0:
            continue
        ch = channel[i]
        if (ch != ONLINE and ch != MOBILE and ch != ECOM) or device[i] == 0:
            continue
        c = cust[i]
        t = ts[i]
        keyed_touch(dev_key, dev_ts, dev_ref, c, device[i], t, seq[i])
        touched[i] = 1
        lo = t - width
        n = keyed_distinct(dev_ts, c, lo, t)
        if n >= min_devices:
            fired[i] = 1
            observed[i] = n
            select_evidence(evidence[i], t, window(dev_ts, dev_ref, c, lo))


def _online(
    n: int, day: float, device: str, txn_type: str = "emt_out", **fields: Any
) -> dict[str, Any]:
    return txn(n, txn_type, 60.0, days=day, channel="mobile", device_id=device, **fields)


SPEC = IndicatorSpec(
    id="PP-20",
    title="Multiple devices on one account",
    description=(
        "Several distinct devices (device id, else IP address) used for online, mobile and "
        "e-commerce transactions on one customer's account. FINTRAC lists multiple phone "
        "numbers trying to access a female's bank account (F21-G21): the trafficker and "
        "others log in to the victim's account to move her money. The contract carries no "
        "login events, so the rule reads the devices on transactions. Fires on three or more "
        "devices in 30 days; it says who touches the account, not whose role, so it is "
        "context."
    ),
    family="ID",
    sources=("FINTRAC-2021-OA001 G21",),
    status="experimental",
    severity="low",
    weight=1.0,
    role_signal="context",
    window="30d",
    threshold_param="min_devices",
    false_positives=(
        "A new phone, a laptop and a tablet for one person; app reinstalls that reset the "
        "device id.",
        "Mobile carriers and VPNs rotating IP addresses when no device id is sent.",
        "Joint accounts and family members legitimately sharing access.",
    ),
    required_fields=("channel", "device_id", "ip"),
    inputs=("cust", "seq", "ts", "channel", "device", "attempted"),
    state=(
        StateArray("dev_key", (DEVICES,), np.int64, 0),
        StateArray("dev_ts", (DEVICES,), np.int64, EMPTY_TS),
        StateArray("dev_ref", (DEVICES,), np.int64, -1),
    ),
    params=(
        Param("window_days", 30, 1, 90, "sliding window, days", integer=True),
        Param(
            "min_devices",
            3,
            2,
            DEVICES,
            "distinct devices in the window",
            integer=True,
            capacity="dev_key",
        ),
    ),
    kernel=multiple_devices,
    coverage="partial",
    coverage_note=(
        "Login and MFA events (device_id, phone number and IP per session, including failed "
        "attempts) would complete F21-G21, as would device ownership; today: distinct "
        "`device_id` (else `ip`) on online, mobile and e-commerce transactions."
    ),
    must_fire=(
        example(
            "three phones in one week",
            _online(1, 0, "DEV-A1", counterparty_id="CP-9"),
            _online(2, 2, "DEV-B7", counterparty_id="CP-9"),
            _online(3, 5, "DEV-C3", txn_type="bill_payment"),
        ),
    ),
    must_not_fire=(
        example(
            "one phone and one laptop",
            *(_online(n + 1, 2 * n, "DEV-PHONE" if n % 2 else "DEV-LAPTOP") for n in range(8)),
        ),
        example(
            "three devices months apart",
            _online(1, 0, "DEV-OLD"),
            _online(2, 45, "DEV-NEW"),
            _online(3, 95, "DEV-NEWER"),
        ),
    ),
)
