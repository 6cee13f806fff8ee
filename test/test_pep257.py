"""
ament_pep257 over the repository's Python code, as ``colcon test`` runs it in ROS 2 Jazzy.

Its "ament" convention checks every pydocstyle rule except D100-D107 (missing docstrings),
D203, D212 and D404. So a multi-line docstring starts its summary on the second line (D213),
properties and dunders are summarised in the imperative too (D401), and a ``Returns:``
header is read as a numpy section (D406/D407): use ``:param x:`` / ``:return:`` fields.
"""

from pathlib import Path

from ament_pep257.main import main
import pytest

REPO = Path(__file__).resolve().parents[1]
CHECKED = ('setup.py', 'lim_ros', 'launch', 'test')


@pytest.mark.linter
@pytest.mark.pep257
def test_pep257(monkeypatch):
    monkeypatch.chdir(REPO)
    paths = [path for path in CHECKED if (REPO / path).exists()]
    rc = main(argv=paths)
    assert rc == 0, 'Found code style errors / warnings (listed in the captured stderr)'
