"""The lecture's shared-variable exercise: an accumulator with `updates`, and `givens` to replace the
state by another value for one function.

    python examples/lecture/accumulator.py
"""
import loom
import loom.tensor as T


def build():
    state = loom.shared(0, name="state")
    inc = T.iscalar("inc")
    accumulator = loom.function([inc], state, updates=[(state, state + inc)])
    double = loom.function([], state * 2)
    fn_of_state = state * 2 + inc
    foo = T.scalar("foo", dtype=state.dtype)     # a value of the state's type, fed instead of it
    skip_shared = loom.function([inc, foo], fn_of_state, givens=[(state, foo)])
    return state, accumulator, double, skip_shared


def pairs(steps: int = 3) -> list[tuple[float, float]]:
    """(state, 2 * state) after each accumulator(1): (1, 2), (2, 4), (3, 6)."""
    state, accumulator, double, _ = build()
    result = []
    for _ in range(steps):
        accumulator(1)
        result.append((float(state.get_value()), float(double())))
    return result


if __name__ == "__main__":
    print(pairs())
    state, accumulator, _, skip_shared = build()
    accumulator(300)
    print("state after accumulator(300):", state.get_value())
    print("skip_shared(1, 3) =", skip_shared(1, 3), "and the state is still", state.get_value())
