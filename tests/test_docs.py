"""Every ```python block of the guides runs; blocks of one page share a namespace."""

import doctest
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(p.name for p in DOCS.glob("*.md") if "```python" in p.read_text(encoding="utf-8"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks(page):
    return BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", PAGES)
def test_page_has_python_blocks(page):
    assert blocks(page), f"{page} has no python code blocks"


@pytest.mark.parametrize("page", PAGES)
def test_every_python_block_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    namespace = {"__name__": f"docs_{page.replace('-', '_').replace('.', '_')}"}
    for number, code in enumerate(blocks(page), 1):
        try:
            if code.lstrip().startswith(">>>"):  # a doctest: its shown output is checked
                run_doctest(code, namespace, f"{page} block {number}")
                continue
            exec(compile(code, f"{page} block {number}", "exec"), namespace)
        except Exception as exc:  # name the page and block, keep the cause
            raise AssertionError(f"{page}, python block {number} failed: {exc!r}") from exc


def run_doctest(code, namespace, name):
    test = doctest.DocTestParser().get_doctest(code, namespace, name, name, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = []
    runner.run(test, out=out.append, clear_globs=False)
    namespace.update(test.globs)  # the next blocks of the page see its names
    if runner.failures:
        raise AssertionError("".join(out))


def test_example_script_runs(capsys, monkeypatch):
    import runpy

    script = DOCS.parent / "examples" / "textbook_gradient.py"
    assert len(script.read_text(encoding="utf-8").splitlines()) < 60
    monkeypatch.setattr("sys.argv", [str(script)])
    runpy.run_path(str(script), run_name="__main__")
    assert "d/dx" in capsys.readouterr().out
