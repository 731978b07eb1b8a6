"""``window``: a block of a data column as a contiguous array, whatever the column's layout.

The vectorised loop of a data kernel (``symgrad.codegen._source._vector_loop``) reads
each data symbol from a 1-D array ``_a{j}``. Numba types that array once per
compiled specialisation, and LLVM vectorises the loop according to that type: a
view of a contiguous column is read with vector loads, a strided view (a column of
the row-major layout of :meth:`Objective.prepare`) is not, and the partial sums of
``vm.accumulate`` then come out in another order. ``window`` is therefore resolved
at typing time: a contiguous column gives a view of ``start .. start + count - 1``,
any other layout a copy of those samples into ``buffer``; both are C-contiguous,
so the loop, and the bits of its sums, are the same for every layout.
"""

from __future__ import annotations

from numba import types
from numba.extending import overload

__all__ = ["window"]


def window(column, buffer, start, count):
    """``column[start:start + count]`` as a contiguous 1-D array (a view, or a copy in ``buffer``)."""
    if column.flags.c_contiguous:
        return column[start:start + count]
    buffer[:count] = column[start:start + count]
    return buffer[:count]


@overload(window, jit_options={"nogil": True})
def _window(column, buffer, start, count):
    if isinstance(column, types.Array) and column.layout == "C":
        def view(column, buffer, start, count):
            return column[start:start + count]

        return view

    def copy(column, buffer, start, count):
        for i in range(count):
            buffer[i] = column[start + i]
        return buffer[:count]

    return copy
