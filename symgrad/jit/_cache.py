"""Generated source on disk -> a module of Numba functions, cached across processes.

Numba caches machine code only for functions defined in a file (``exec`` of a
string has "no locator available"). So each generated module is written to
``<cache dir>/symgrad_<hash>.py``, named by the SHA-256 of its text, the
``JitOptions`` and the versions of Python, symgrad, Numba and NumPy; it is
imported as a module registered in ``sys.modules``, and its functions are wrapped
with ``numba.njit(cache=True)``. Numba keeps the machine code in ``__pycache__``
beside the file, so a new process that builds the same kernel compiles nothing.

Concurrency and damage: a file is created with a hard link from a private temporary
file, which fails (harmlessly) when another process created it first, so a file is
never half-written or rewritten under a reader; a file whose text is not what its
name promises (even bytes that are not UTF-8) is replaced, and so is machine code that
does not load. When the directory cannot be written, kernels are built in memory
(compiled anew by each process) after one ``CacheWarning``. :func:`builtin_kernel`
gives symgrad's own kernels the same fallback when Numba cannot cache them beside
the installed package.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import inspect
import textwrap
import linecache
import os
import pickle
import sys
import tempfile
import types
import warnings
from pathlib import Path

import numpy as np

from symgrad.jit._lazy import LazyKernel
from symgrad.jit._optlevel import pipeline_class
from symgrad.jit._options import DEFAULT_OPTIONS, JitOptions

__all__ = ["CacheWarning", "builtin_kernel", "cache_dir", "load_module", "source_key"]

_VERSION = "0.1.0"
#: The functions generated kernels call (``vm.exp``, ``vm.empty2``, ``vm.window``,
#: the C library's under the same names, ``sf.polygamma``) are compiled into them,
#: and Numba's cache does not notice when they change: the text of every module
#: that defines them is part of every key.
_ELEMENTARY = b"".join(
    (Path(__file__).parent / name).read_bytes()
    for name in ("_elementary.py", "_dense.py", "_libm.py", "_window.py", "_special.py", "../_special.py")
)
_VECTOR_IMPORT = "from symgrad.jit import _elementary as vm\n"
_LIBM_IMPORT = "from symgrad.jit import _libm as vm\n"
_warned = False


class CacheWarning(UserWarning):
    """The kernel cache directory cannot be used; kernels are compiled in memory."""


def cache_dir() -> Path:
    """The cache directory: ``$SYMGRAD_CACHE_DIR``, else the user's cache folder."""
    env = os.environ.get("SYMGRAD_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "symgrad"


def source_key(text: str, options: JitOptions = DEFAULT_OPTIONS, opt_level: int | None = None) -> str:
    """SHA-256 of everything a compiled kernel depends on (``opt_level``: LLVM's, if not Numba's)."""
    import numba  # imported when a kernel is first compiled or loaded, not with symgrad

    h = hashlib.sha256()
    for part in (
        text,
        options.key(),
        f"opt {opt_level}" if opt_level is not None else "",
        _VERSION,
        hashlib.sha256(_ELEMENTARY).hexdigest(),
        numba.__version__,
        np.__version__,
        sys.version,
    ):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _write(directory: Path, name: str, text: str) -> Path | None:
    """Create ``directory/name`` with ``text`` unless it exists intact; None if impossible."""
    path = directory / name
    try:
        if path.exists():
            if path.read_bytes() == text.encode("utf-8"):  # bytes: damage may not be UTF-8
                return path
            path.unlink()  # damaged: rebuilt below
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".py")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process won the race with the same text
        finally:
            os.unlink(tmp)
        return path
    except OSError as exc:
        global _warned
        if not _warned:
            _warned = True
            warnings.warn(
                f"symgrad cannot write its kernel cache in {directory} ({exc.strerror or exc}); "
                "kernels will be compiled in memory by every process. Set SYMGRAD_CACHE_DIR "
                "to a writable directory to cache them.",
                CacheWarning,
                stacklevel=4,
            )
        return None


def _drop_damaged_machine_code(path: Path) -> None:
    """Delete Numba's cache files of ``path`` if any of them does not unpickle.

    Numba writes them atomically, but a truncated file (a full disk, a killed copy)
    would make it raise on load; deleting them makes Numba compile and save anew.
    """
    files = sorted(path.parent.glob(f"__pycache__/{path.stem}.*.nb[ic]"))
    try:
        for f in files:
            with open(f, "rb") as fh:
                if f.suffix == ".nbi":
                    pickle.load(fh)
                pickle.loads(fh.read())
    except Exception:  # any unpickling failure means damage
        for f in files:
            with contextlib.suppress(OSError):
                f.unlink()


def _import_file(module_name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _import_text(module_name: str, text: str, key: str) -> types.ModuleType:
    # Our own generated text, never user input; registered in linecache so that
    # tracebacks and inspect show it.
    filename = f"<symgrad-kernel-{key[:16]}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    module = types.ModuleType(module_name)
    module.__file__ = filename
    exec(compile(text, filename, "exec"), module.__dict__)  # noqa: S102
    return module


def load_module(source, options: JitOptions = DEFAULT_OPTIONS) -> types.ModuleType:
    """Import the module of a ``KernelSource`` with its functions wrapped by ``numba.njit``.

    Numba compiles each function on its first call (or loads it from the cache).
    With ``options.vector_math`` off, a module that imports the branch-free
    elementary functions as ``vm`` imports the C library's (``symgrad.jit._libm``)
    under that name instead.
    """
    import numba

    opt_level = getattr(source, "opt_level", None)
    if not options.vector_math and _VECTOR_IMPORT in source.text:
        source = types.SimpleNamespace(
            text=source.text.replace(_VECTOR_IMPORT, _LIBM_IMPORT), functions=source.functions, loops=source.loops
        )
    key = source_key(source.text, options, opt_level)
    module_name = f"symgrad_kernel_{key[:24]}"
    module = sys.modules.get(module_name)
    if module is not None:
        return module
    path = _write(cache_dir(), f"symgrad_{key[:24]}.py", source.text) if options.cache else None
    if path is not None:
        module = _import_file(module_name, path)
        sys.modules[module_name] = module  # Numba's cache data refers to it by name
        _drop_damaged_machine_code(path)
        cache = True
    else:
        module = _import_text(module_name, source.text, key)
        cache = False
    for name, value in list(vars(module).items()):  # symgrad's own kernels it calls: compiled, for Numba to type
        if isinstance(value, LazyKernel):
            setattr(module, name, value.resolve())
    for name in source.functions:
        kwargs = options.numba_kwargs(loop=name in source.loops)
        kwargs["cache"] = cache
        width = options.vector_width if name in source.loops else None
        if opt_level is not None or width is not None:
            kwargs["pipeline_class"] = pipeline_class(opt_level, width)
        setattr(module, name, numba.njit(**kwargs)(getattr(module, name)))
    sys.modules[module_name] = module
    return module


#: Numba's own defaults, which symgrad's built-in kernels compile with.
_BUILTIN_OPTIONS = JitOptions(error_model="python", nogil=False)
#: The only globals a built-in kernel may use to be cached in the cache directory.
_BUILTIN_HEADER = "import math\nimport numpy as np\n\n\n"


def builtin_kernel(function=None, *, options: JitOptions | None = None):
    """``numba.njit(cache=True)`` for one of symgrad's own kernels, wherever it is installed.

    The kernel is a :class:`~symgrad.jit._lazy.LazyKernel`: Numba is imported, and the
    kernel compiled or loaded from the cache, on its first call, so that importing a
    module of kernels costs no Numba.

    Numba caches beside the source file, or in the user's cache folder. When neither
    can be written (a read-only install and a read-only ``$HOME``) ``njit(cache=True)``
    raises "no locator available". Then the kernel's source is written to symgrad's
    cache directory and cached there like a generated kernel (or compiled in memory
    after one ``CacheWarning`` when that cannot be written either). A kernel that uses
    other globals than ``math`` and ``np`` (another kernel, a constant) is compiled in
    memory instead.

    Use as ``@builtin_kernel``, or ``@builtin_kernel(options=DEFAULT_OPTIONS)`` for the
    options of the generated kernels (the default is Numba's own, ``error_model="python"``).
    """
    if function is None:
        return lambda f: builtin_kernel(f, options=options)
    return LazyKernel(function, functools.partial(_compile_builtin, options=options or _BUILTIN_OPTIONS))


def cached_njit(function, signature=None, **kwargs):
    """``numba.njit(signature, cache=True, **kwargs)(function)``, or ``None`` where Numba finds no
    folder to cache it in (a read-only install and a read-only ``$HOME``: "no locator available")."""
    import numba

    try:
        return numba.njit(signature, **dict(kwargs, cache=True))(function)
    except RuntimeError as exc:
        if "no locator" not in str(exc):
            raise
        return None


def _compile_builtin(function, options: JitOptions):
    """``numba.njit(cache=True)(function)``, with the fallbacks of :func:`builtin_kernel`."""
    import numba

    kwargs = options.numba_kwargs()
    compiled = cached_njit(function, **kwargs)
    if compiled is not None:
        return compiled
    used = set(function.__code__.co_names) & set(function.__globals__)
    if not used <= {"math", "np"}:
        return numba.njit(**dict(kwargs, cache=False))(function)
    lines = textwrap.dedent(inspect.getsource(function)).splitlines(True)
    while lines and lines[0].lstrip().startswith("@"):  # drop the decorator
        lines.pop(0)
    source = types.SimpleNamespace(
        text=_BUILTIN_HEADER + "".join(lines), functions=(function.__name__,), loops=()
    )
    return getattr(load_module(source, options), function.__name__)
