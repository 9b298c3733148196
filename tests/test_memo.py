"""Work kept per scenario (``sim/model/memo.py``): a result is reused for the very objects it was
worked out from, and worked out again for others, equal or not."""

from sim.model.memo import per_scenario


def test_a_result_is_kept_for_the_very_objects_and_worked_out_again_for_equal_ones():
    made = []

    @per_scenario(8)
    def total(numbers, more):
        made.append((numbers, more))
        return sum(numbers) + sum(more)

    a, b = [1, 2], [3]
    assert total(a, b) == 6 and total(a, b) == 6 and len(made) == 1
    assert total(list(a), b) == 6 and len(made) == 2  # equal, not the same: worked out again
    assert total(a, b, key="x") == 6 and len(made) == 3  # another key: another entry
    assert total(b, a) == 6 and len(made) == 4
