"""symgrad's own Numba kernels import and cache when the installed package is read-only."""

import os
import subprocess
import sys
import textwrap

import symgrad

#: A Numba cache locator that, like a read-only install with a read-only $HOME,
#: finds no place for the functions of the file READ_ONLY names.
LOCATOR = textwrap.dedent(
    """
    import os
    from numba.core.caching import InTreeCacheLocator

    READ_ONLY = os.environ["READ_ONLY"]

    class ReadOnlyPackageLocator(InTreeCacheLocator):
        @classmethod
        def from_function(cls, py_func, py_file):
            if os.path.abspath(py_file).startswith(READ_ONLY):
                return None
            return super().from_function(py_func, py_file)
    """
)

SCRIPT = textwrap.dedent(
    """
    import symgrad as sg
    from symgrad.optimize import _transforms

    def parabola(x):  # (x - 3)**2 and its gradient
        return float((x[0] - 3.0) ** 2), 2.0 * (x - 3.0)

    result = sg.minimize(parabola, [0.0], optimizer=sg.optim.Adam(lr=0.1), steps=400)
    stats = _transforms._adam_kernel.stats
    print(repr(float(result.x[0])), sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
    """
)


def run(tmp_path):
    (tmp_path / "readonly_locator.py").write_text(LOCATOR)
    # the whole installed package is read-only
    package = os.path.dirname(os.path.abspath(symgrad.__file__))
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
        NUMBA_CACHE_LOCATOR_CLASSES="readonly_locator.ReadOnlyPackageLocator",
        READ_ONLY=package,
        SYMGRAD_CACHE_DIR=str(tmp_path / "cache"),
    )
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    value, hits, misses = out.stdout.split()
    return float(value), int(hits), int(misses)


def test_builtin_kernels_cache_in_the_cache_directory_when_the_package_is_read_only(tmp_path):
    value, hits, misses = run(tmp_path)
    assert abs(value - 3.0) < 1e-3  # the minimum of (x - 3)**2
    assert (hits, misses) == (0, 1)
    assert list((tmp_path / "cache").glob("symgrad_*.py"))
    # the machine code is saved there, for the next process to load
    assert list((tmp_path / "cache").glob("__pycache__/symgrad_*_adam_kernel*.nbi"))
