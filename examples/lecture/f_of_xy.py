"""The lecture's first exercise: z = 3x + xy + 3y as a compiled function (f(1, 1) = 7, f(10, -3) = -9).

    python examples/lecture/f_of_xy.py
"""
import loom
import loom.tensor as T


def build() -> loom.Function:
    x = T.dscalar("x")
    y = T.dscalar("y")
    z = 3 * x + x * y + 3 * y
    return loom.function([x, y], z)


if __name__ == "__main__":
    f = build()
    print("f(1, 1) =", f(1, 1))
    print("f(10, -3) =", f(10, -3))
    loom.debugprint(f)
