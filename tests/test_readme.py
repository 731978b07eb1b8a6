"""The README's code runs, and its first example prints exactly the output shown."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def fenced():
    return FENCE.findall(README.read_text(encoding="utf-8"))


def test_quick_start_is_exactly_two_commands():
    (shell,) = [code for lang, code in fenced() if lang == "bash"]
    commands = [line for line in shell.splitlines() if line.strip()]
    assert commands == ['pip install -e ".[plot]" && symgrad demo', 'pip install -e ".[test]" && pytest']


def test_first_example_prints_the_output_shown():
    blocks = fenced()
    assert blocks[0][0] == "python" and blocks[1][0] == "text"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks[0][1], "README block 1", "exec"), {})
    assert out.getvalue() == blocks[1][1]


def test_every_python_block_runs():
    for number, (lang, code) in enumerate(fenced(), 1):
        if lang == "python":
            exec(compile(code, f"README block {number}", "exec"), {"__name__": "readme"})
