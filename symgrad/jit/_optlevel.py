"""The Numba compiler of generated kernels: LLVM's optimisation level and vector width per module.

Two settings Numba only offers process-wide, given here to one compile at a time.

**Optimisation level.** Numba optimises every function at ``NUMBA_OPT`` (3 by
default), once per function and once more over the linked module. For the loops
engine's kernels (dozens of short loops over a block of samples, each vectorised
by LLVM) level 1 gives the same machine speed: the loop vectoriser runs at every
level, and what level 3 adds (more unrolling, loop strength reduction over the
unrolled copies) costs seconds of compile time and no time per sample (the
2-16-16-1 tanh MLP: 4.7 s of LLVM at level 3, 1.1 s at level 1,
``bench/bench_networks.py`` for the speed). Numba has no per-function level, but it
reads ``numba.core.config.OPT`` each time it builds a pass pipeline, and a
dispatcher compiles under Numba's global compiler lock: the compiler sets the
level for the duration of its own compile, nested compiles included, and
restores it after.

**Vector width.** On processors with AVX-512, LLVM's tuning for Intel server cores
vectorises loops with 256-bit registers unless a function asks for more (the
``"prefer-vector-width"`` function attribute; Numba's only other route is the
process-wide ``NUMBA_CPU_FEATURES``). The compiler lowers each function with that
attribute set, so a data loop computes eight float64 samples per instruction
instead of four; the elementary functions it calls are inlined into it and
vectorised at the same width. Where the processor has no wider registers the
attribute changes nothing. ``bench/bench_logistic.py`` gives the measurement.

**Passes the generated code does not need.** Numba's pipeline is written for any
Python function. Generated kernels assign each variable values of one type only,
define no closure, no comprehension and no array expression, so four of its
passes find nothing to do in them, at a cost that grows with the length of the
function: the SSA reconstruction and the removal of its phi nodes, the inlining of
closures, and the rewrites after typing (array expressions, string literals).
The compiler leaves them out: on the 2-16-16-1 tanh MLP's kernel they took 1.3 to
1.6 s of 5.6 to 6.4 s (Numba's pass timers), and the machine code is the same (the
same bits out; docs/performance.md, "Cold start"). The
rewrites before typing (constant raises, ``x ** 2`` with a constant exponent) stay.

**Distinct arrays.** A function that writes one array while it reads others is
vectorised by LLVM only after testing at run time that what it writes overlaps
nothing it reads, once per entry into each loop; for the short loops of a dense
layer's reverse pass (``symgrad.jit._dense``) those tests cost 20 to 30 % of the
time. ``distinct=True`` marks the data pointers of the function's float64 arrays
``noalias``, a promise the caller keeps (the kernels pass their own work arrays,
never two views of one), and LLVM leaves the tests out.
"""

from __future__ import annotations

import functools

from symgrad.errors import OptionError

__all__ = ["pipeline_class", "VECTOR_WIDTHS", "SKIPPED_PASSES"]

#: The widths ``pipeline_class`` accepts, in bits; ``None`` leaves LLVM's own choice.
VECTOR_WIDTHS = (None, 128, 256, 512)
#: Numba's passes (by class name) the generated kernels do not need (see above).
SKIPPED_PASSES = frozenset({"ReconstructSSA", "PreLowerStripPhis", "InlineClosureLikes", "NopythonRewrites"})


@functools.lru_cache(maxsize=None)
def _lowering_pass(width: int, distinct: bool = False):
    """Numba's lowering pass, with every function it lowers asking LLVM for ``width``-bit
    vectors; with ``distinct``, its arrays' data marked as not shared between arguments."""
    from llvmlite import ir
    from numba.core import lowering, typed_passes
    from numba.core.compiler_machinery import register_pass

    attribute = f'"prefer-vector-width"="{width}"'
    doubles = ir.PointerType(ir.DoubleType())

    class WidthLower(lowering.Lower):
        def post_lower(self):
            super().post_lower()
            # llvmlite's attribute set accepts only its enumerated names; a string
            # attribute is written into the function's header as it stands.
            set.add(self.function.attributes, attribute)
            if distinct:  # the data pointers of float64 arrays (not their reference counts)
                for argument in self.function.args:
                    if argument.type == doubles:
                        argument.add_attribute("noalias")

    class WidthLowering(typed_passes.NativeLowering):
        _name = f"symgrad_lowering_{width}{'_distinct' if distinct else ''}"

        @property
        def lowering_class(self):
            return WidthLower

    WidthLowering.__name__ = WidthLowering.__qualname__ = f"Lowering{width}{'Distinct' if distinct else ''}"
    return register_pass(mutates_CFG=True, analysis_only=False)(WidthLowering)


@functools.lru_cache(maxsize=None)
def pipeline_class(level: int | None = None, vector_width: int | None = None, distinct: bool = False):
    """A Numba compiler class (``numba.njit(pipeline_class=...)``) for generated kernels.

    Args:
        level: the LLVM optimisation level, 0 to 3, or ``None`` for Numba's (``NUMBA_OPT``).
        vector_width: the vector width LLVM should prefer in the compiled functions,
            128, 256 or 512 bits, or ``None`` for LLVM's own choice for the processor.
        distinct: promise LLVM that the float64 arrays passed to one call share no
            memory (``noalias`` on their data pointers), so that a loop writing one
            and reading others is vectorised without run-time overlap tests; needs a
            ``vector_width``. A call that breaks the promise has undefined results.

    Returns:
        A subclass of ``numba.core.compiler.Compiler``; the same class for the same arguments.

    Raises:
        OptionError: ``level`` is not 0, 1, 2, 3 or ``None``, ``vector_width`` is
            not one of ``VECTOR_WIDTHS``, or ``distinct`` without a width (a ``ValueError``).
    """
    if level not in (None, 0, 1, 2, 3):
        raise OptionError(f"LLVM optimisation level {level!r}: use 0, 1, 2 or 3")
    if vector_width not in VECTOR_WIDTHS:
        raise OptionError(f"vector width {vector_width!r}: use 128, 256 or 512 (bits), or None for LLVM's choice")
    if distinct and vector_width is None:
        raise OptionError("distinct arrays are marked by the lowering of a vector width: give vector_width too")
    from numba.core import compiler, config, typed_passes

    lowering = _lowering_pass(vector_width, distinct) if vector_width is not None else None

    class KernelCompiler(compiler.Compiler):
        def define_pipelines(self):
            pipelines = super().define_pipelines()
            for manager in pipelines:
                manager.passes = [
                    (lowering if lowering is not None and cls is typed_passes.NativeLowering else cls, text)
                    for cls, text in manager.passes
                    if cls.__name__ not in SKIPPED_PASSES
                ]
                manager.finalize()
            return pipelines

        def _compile_core(self):
            if level is None:
                return super()._compile_core()
            saved = config.OPT
            config.OPT = type(saved)(level)
            try:
                return super()._compile_core()
            finally:
                config.OPT = saved

    name = f"Level{level}Width{vector_width}{'Distinct' if distinct else ''}Compiler"
    KernelCompiler.__name__ = KernelCompiler.__qualname__ = name
    return KernelCompiler
