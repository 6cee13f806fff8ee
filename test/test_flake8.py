"""
ament_flake8 over the repository's Python code, as ``colcon test`` runs it in ROS 2 Jazzy.

The configuration is ament_flake8's own (99 columns, single quotes, google import order, the
pydocstyle subset of flake8-docstrings, flake8-builtins and flake8-comprehensions).
"""

from pathlib import Path

from ament_flake8.main import main_with_errors
import pytest

REPO = Path(__file__).resolve().parents[1]
CHECKED = ('setup.py', 'lim_ros', 'launch', 'test')


@pytest.mark.flake8
@pytest.mark.linter
def test_flake8(monkeypatch):
    monkeypatch.chdir(REPO)
    paths = [path for path in CHECKED if (REPO / path).exists()]
    rc, errors = main_with_errors(argv=paths)
    assert rc == 0, f'Found {len(errors)} code style errors / warnings:\n' + '\n'.join(errors)
