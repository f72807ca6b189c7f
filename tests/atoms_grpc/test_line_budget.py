"""LineBudget: every line while traffic is light, a budget per key under load, and a count of the rest."""

from __future__ import annotations

from atoms_grpc.line_budget import LineBudget


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_within_the_burst_are_all_allowed() -> None:
    budget = LineBudget(per_s=1.0, burst=5, clock=_Clock())
    assert [budget.take("k") for _ in range(5)] == [0, 0, 0, 0, 0]


def test_lines_beyond_the_burst_are_refused_and_counted_on_the_next_allowed_line() -> None:
    clock = _Clock()
    budget = LineBudget(per_s=2.0, burst=2, clock=clock)
    assert [budget.take("k") for _ in range(5)] == [0, 0, None, None, None]
    clock.now += 0.5  # one line's worth of budget
    assert budget.take("k") == 3
    assert budget.take("k") is None


def test_each_key_has_its_own_budget() -> None:
    budget = LineBudget(per_s=1.0, burst=1, clock=_Clock())
    assert budget.take(("/svc/A", "OK")) == 0
    assert budget.take(("/svc/A", "OK")) is None
    assert budget.take(("/svc/A", "UNAUTHENTICATED")) == 0


def test_the_budget_refills_at_its_rate_up_to_the_burst() -> None:
    clock = _Clock()
    budget = LineBudget(per_s=10.0, burst=3, clock=clock)
    for _ in range(3):
        budget.take("k")
    clock.now += 60
    assert [budget.take("k") for _ in range(4)] == [0, 0, 0, None]
