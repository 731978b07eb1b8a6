"""Built-in kernels compiled on their first call, so that ``import symgrad`` loads no Numba.

Importing Numba costs about half a second, and a module-level ``@numba.njit`` needs
it at import. A :class:`LazyKernel` keeps the plain Python function until its first
call; then it compiles it (or loads its machine code from Numba's cache) through a
``build`` function and calls the result from then on.

Numba types a global of a function it compiles by the global's value, and knows
nothing of this wrapper; so before a kernel is built, the lazy kernels it calls are
built first and its module's globals are pointed at them (:func:`resolve_globals`).
"""

from __future__ import annotations

import functools

__all__ = ["LazyKernel", "resolve_globals"]


class LazyKernel:
    """A function compiled by ``build(function)`` on its first call.

    Args:
        function: the plain Python function (its source is what Numba compiles).
        build: ``build(function) -> compiled``, e.g. ``numba.njit(cache=True)``.

    Attributes:
        py_func: the plain Python function, as Numba's dispatchers name it.

    Example:
        >>> doubled = LazyKernel(lambda x: 2 * x, build=lambda f: f)
        >>> doubled.compiled is None, doubled(3), doubled.compiled is not None
        (True, 6, True)
    """

    __slots__ = ("py_func", "_build", "compiled", "__dict__")

    def __init__(self, function, build):
        self.py_func = function
        self._build = build
        self.compiled = None
        functools.update_wrapper(self, function)

    def resolve(self):
        """The compiled function, built on the first request.

        The module's global of the same name, if it is this wrapper, is rebound to the
        compiled function, so that later calls from the module skip the wrapper.
        """
        if self.compiled is None:
            resolve_globals(self.py_func)
            self.compiled = self._build(self.py_func)
            namespace = self.py_func.__globals__
            if namespace.get(self.py_func.__name__) is self:
                namespace[self.py_func.__name__] = self.compiled
        return self.compiled

    def __getattr__(self, name):
        """Attributes of the compiled function (``stats``, ``signatures``) once it is built."""
        try:
            compiled = object.__getattribute__(self, "compiled")
        except AttributeError:  # not initialised yet (a copy being made)
            compiled = None
        if compiled is None:
            raise AttributeError(f"a lazy kernel has no attribute {name!r} before its first call")
        return getattr(compiled, name)

    def __call__(self, *args):
        compiled = self.compiled
        if compiled is None:
            compiled = self.resolve()
        return compiled(*args)

    def __repr__(self) -> str:
        state = "compiled" if self.compiled is not None else "not compiled yet"
        return f"LazyKernel({self.py_func.__module__}.{self.py_func.__qualname__}, {state})"


def resolve_globals(function) -> None:
    """Build the lazy kernels that ``function`` names as globals, and rebind those names.

    After this the module's globals hold the compiled functions, which Numba can type
    when it compiles ``function``; Python callers of the module see them too.
    """
    namespace = function.__globals__
    for name in function.__code__.co_names:
        value = namespace.get(name)
        if isinstance(value, LazyKernel):
            namespace[name] = value.resolve()
