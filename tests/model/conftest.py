"""Hypothesis profiles for the model-based tests: `ci` (the default, in `make test`: about a
minute, derandomized so CI is repeatable; Hypothesis then keeps no database) and `fuzz`
(`make fuzz`: many more sequences, random, with failing examples kept in `.hypothesis/`, ignored
by git, and replayed first next time)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

_DATABASE = DirectoryBasedExampleDatabase(".hypothesis/examples")
_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
settings.register_profile(
    "ci", max_examples=int(os.environ.get("MODEL_EXAMPLES", "60")), stateful_step_count=30,
    derandomize=True, **_COMMON,
)  # fmt: skip
settings.register_profile(
    "fuzz", max_examples=int(os.environ.get("MODEL_EXAMPLES", "400")), stateful_step_count=40,
    database=_DATABASE, **_COMMON,
)  # fmt: skip
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
