"""The profile-fact rules (PK-nn without a kernel), in registry order."""

from __future__ import annotations

from indicators.profile_spec import ProfileRuleSpec
from indicators.registry import PROFILE_REGISTRY

PROFILE_RULES: tuple[ProfileRuleSpec, ...] = tuple(PROFILE_REGISTRY.values())
