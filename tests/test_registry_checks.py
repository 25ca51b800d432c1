"""Each rule the registry enforces at import fails, naming the rule, on a spec that breaks it."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from indicators import checks, inputs, registry
from indicators.spec import SpecError

PP02 = registry.get("PP-02")


def test_the_shipped_rules_pass_every_check() -> None:
    for spec in registry.REGISTRY.values():
        checks.check_kernel_arguments(spec, registry.bit_arguments(spec))
        checks.check_capacities(spec)


def test_a_duplicate_id_fails(tmp_path, monkeypatch) -> None:
    package = tmp_path / "dup_rules"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "pp02_again.py").write_text("from indicators.pp02_escort_processor import SPEC\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(SpecError, match=r"rule 'unique id': indicator PP-02 in dup_rules\."):
            registry._discover(("indicators", "dup_rules"))
    finally:  # the throw-away package leaves no module behind
        for name in [m for m in sys.modules if m.startswith("dup_rules")]:
            del sys.modules[name]


def test_an_unknown_rule_package_fails() -> None:
    with pytest.raises(SpecError, match="PROTECT_RULE_PACKAGES: cannot import rule package"):
        registry._discover(("no_such_rules_package",))


def test_inputs_out_of_spec_order_fail() -> None:
    swapped = (PP02.inputs[1], PP02.inputs[0], *PP02.inputs[2:])
    bad = dataclasses.replace(PP02, inputs=swapped)
    with pytest.raises(
        SpecError,
        match=r"rule 'kernel arguments in spec order'.*PP-02.*"
        r"argument 0 is 'cust', the runner passes 'seq'",
    ):
        checks.check_kernel_arguments(bad)


def test_a_missing_parameter_fails() -> None:
    bad = dataclasses.replace(PP02, params=PP02.params[:-1])
    with pytest.raises(
        SpecError,
        match=r"kernel arguments in spec order.*'generic_processors'.*"
        r"the runner passes 'fired'",
    ):
        checks.check_kernel_arguments(bad)


def test_a_bound_the_ring_cannot_hold_fails() -> None:
    param = PP02.param("min_escort")
    wide = dataclasses.replace(param, hi=param.hi + 1)
    bad = dataclasses.replace(PP02, params=tuple(wide if p is param else p for p in PP02.params))
    with pytest.raises(
        SpecError,
        match=r"rule 'capacity': indicator PP-02, parameter "
        r"'min_escort' allows up to 17.*'esc_ts' holds 16",
    ):
        checks.check_capacities(bad)


def test_spare_slots_count_against_the_capacity() -> None:
    param = PP02.param("min_escort")
    tight = dataclasses.replace(param, spare=1)
    bad = dataclasses.replace(PP02, params=tuple(tight if p is param else p for p in PP02.params))
    with pytest.raises(SpecError, match=r"rule 'capacity'.*\(\+1 spare\)"):
        checks.check_capacities(bad)


def test_a_capacity_naming_no_state_array_fails() -> None:
    param = dataclasses.replace(PP02.param("min_escort"), capacity="no_such_ring")
    bad = dataclasses.replace(PP02, params=(param,))
    with pytest.raises(SpecError, match=r"rule 'capacity'.*'no_such_ring', which is not"):
        checks.check_capacities(bad)


def test_more_than_63_mask_bits_fail() -> None:
    checks.check_mask_limit("kernel indicators", [f"R{i}" for i in range(63)])
    with pytest.raises(SpecError, match=r"rule '64-bit masks': 64 kernel indicators"):
        checks.check_mask_limit("kernel indicators", [f"R{i}" for i in range(64)])


def test_a_declared_bit_the_kernel_does_not_take_fails() -> None:
    bad = dataclasses.replace(PP02, reference_lists=(*PP02.reference_lists, "vc_dealers"))
    with pytest.raises(
        SpecError,
        match=r"kernel arguments in spec order.*argument 17 is "
        r"'fact_entity', the runner passes 'ref_vc_dealers'",
    ):
        checks.check_kernel_arguments(bad, registry.bit_arguments(bad))


def test_bits_are_allocated_from_declared_names() -> None:
    layout = inputs.allocate(
        [("reference", ("a", "b")), ("reference", ("b", "c")), ("profile", ("a",))]
    )
    assert layout.reference == {"a": 1, "b": 2, "c": 4} and layout.profile == {"a": 1}
    assert layout.bit("party", "a") == 0 and layout.mask("reference", ("a", "c")) == 5


def test_every_declared_name_has_its_own_bit() -> None:
    layout = registry.LAYOUT
    for kind in inputs.KINDS:
        bits = list(getattr(layout, kind).values())
        assert len(set(bits)) == len(bits) and all(b & (b - 1) == 0 for b in bits)
    for spec in registry.REGISTRY.values():
        assert all(registry.bit_values(spec)), spec.id
    for rule in registry.PROFILE_REGISTRY.values():
        assert rule.flag_bit == layout.mask("profile", rule.facts)
