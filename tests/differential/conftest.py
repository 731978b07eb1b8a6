"""The run's tally: how many distinct generated expressions each path compared.

Under pytest-xdist each worker sends its tally (expressions as text) to the
controller when it finishes, which prints the union.
"""

import pytest
from compare import DISTINCT

_GATHERED: dict = {}


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the tally to the controller
        workeroutput["differential"] = {path: sorted(map(str, exprs)) for path, exprs in DISTINCT.items()}


@pytest.hookimpl(optionalhook=True)  # an xdist hook: absent without the plugin
def pytest_testnodedown(node, error):
    for path, exprs in getattr(node, "workeroutput", {}).get("differential", {}).items():
        _GATHERED.setdefault(path, set()).update(exprs)


def pytest_terminal_summary(terminalreporter):
    tally = {path: set(map(str, exprs)) for path, exprs in DISTINCT.items()}
    for path, exprs in _GATHERED.items():
        tally.setdefault(path, set()).update(exprs)
    if not tally:
        return
    every = set().union(*tally.values())
    terminalreporter.write_sep("-", f"differential: {len(every)} distinct generated expressions")
    for path in sorted(tally):
        terminalreporter.write_line(f"{len(tally[path]):6d}  {path}")
