"""The run's tally: how many distinct generated expressions each path compared."""

from compare import DISTINCT


def pytest_terminal_summary(terminalreporter):
    if not DISTINCT:
        return
    every = set().union(*DISTINCT.values())
    terminalreporter.write_sep("-", f"differential: {len(every)} distinct generated expressions")
    for path in sorted(DISTINCT):
        terminalreporter.write_line(f"{len(DISTINCT[path]):6d}  {path}")
