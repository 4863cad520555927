"""The simulators' shared fault knobs: a seed makes the random faults the same every run."""

from __future__ import annotations

import random

import pytest

from libs.simkit.faults import Faults


def draws(faults: Faults, rng: random.Random, n: int = 40) -> list[str | None]:
    return [faults.draw(rng) for _ in range(n)]


def test_a_seed_repeats_the_same_faults() -> None:
    faults, rng = Faults(), random.Random()
    faults.update({"throttle_ratio": 0.3, "error_ratio": 0.2, "seed": 7}, rng)
    first = draws(faults, rng)
    faults.update({"seed": 7}, rng)
    assert draws(faults, rng) == first
    assert {"throttle", "error", None} == set(first)


def test_without_a_seed_the_source_is_left_alone() -> None:
    faults, rng = Faults(), random.Random(3)
    expected = random.Random(3).random()
    faults.update({"throttle_ratio": 0.5, "seed": None}, rng)
    assert faults.seed is None
    assert rng.random() == expected


def test_a_seed_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError):
        Faults().update({"seed": "soon"}, random.Random())
