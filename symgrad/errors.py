"""The exception hierarchy of symgrad.

Every class also inherits the builtin exception a caller would expect
(``ValueError``, ``TypeError``, ``NotImplementedError``), so code that catches
the builtin keeps working. Messages say what was required, what came, and what
to do.
"""

__all__ = [
    "SymgradError",
    "ExpressionTypeError",
    "UnsupportedFunctionError",
    "MissingSymbolError",
    "InputError",
    "OptionError",
    "OptionTypeError",
    "UnknownNameError",
    "ParseError",
    "GradientMismatchError",
    "DomainError",
    "SymgradWarning",
    "ClusterError",
]


class SymgradError(Exception):
    """Base class of every error symgrad raises on purpose."""


class ExpressionTypeError(SymgradError, TypeError):
    """A value of the wrong type came where a SymPy expression or symbol was required."""


class UnsupportedFunctionError(SymgradError, ValueError, NotImplementedError):
    """An expression uses a function that some stage cannot handle.

    The message names the SymPy class and lists the supported functions.
    """


class MissingSymbolError(SymgradError, ValueError):
    """A free symbol of an expression is not among the declared arguments."""


class InputError(SymgradError, ValueError):
    """Numeric input (parameters, data columns) of the wrong shape, type or value."""


class OptionError(SymgradError, ValueError):
    """An argument or keyword value the function does not accept.

    For example a count out of range, an unknown engine or format, a symbol listed
    twice, or options that do not go together. Numeric data of the wrong shape or
    value are an :class:`InputError` instead.
    """


class OptionTypeError(SymgradError, TypeError):
    """An argument or keyword of the wrong type, where no SymPy expression was expected.

    For example an optimizer that is not a ``GradientTransformation``, a learning rate
    that is neither a number nor a schedule. A wrong type where an expression or a
    symbol was expected is an :class:`ExpressionTypeError` instead.
    """


class UnknownNameError(SymgradError, KeyError):
    """A name looked up (e.g. a node of a backprop graph) is not there; the message lists those that are."""


class ParseError(SymgradError, ValueError):
    """Text given to :func:`symgrad.parse` is not a supported math expression."""


class GradientMismatchError(SymgradError, ArithmeticError):
    """The compiled gradient disagrees with the independent autograd engine.

    Raised by the start-up guard of ``sg.fit`` and ``sg.minimize``: a symgrad bug, never
    a user error. The message names the parameters, both values, and the point.
    """


class DomainError(InputError):
    """A point where a function of the expression is undefined (or infinite) in the reals.

    For example ``log`` of a number <= 0, ``sqrt`` of a negative number, ``asin`` outside
    ``[-1, 1]``, a division by zero. The message names the function, the point and the
    value its argument takes there.
    """


class SymgradWarning(UserWarning):
    """Input that symgrad reads one way but that may have been meant another.

    For example ``e`` in a parsed text, read as a symbol named ``e``, where Euler's
    number is ``E``. The message says how it was read and how to write the other meaning.
    """


class ClusterError(SymgradError, RuntimeError):
    """A Dask worker died, or the cluster went away, while symgrad computed on it.

    Not an error in the data or the model: the message says what Dask reported; run
    again once the workers are healthy (a chunk larger than a worker's memory kills it).
    """
