"""
mypy over the package, with the configuration in pyproject.toml ([tool.mypy]).

Libraries without type information are taken as untyped; a ``# type: ignore`` names its error
code and says why, and one that no longer silences anything fails (warn_unused_ignores).
"""

from pathlib import Path

from mypy import api
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.linter
def test_mypy(monkeypatch):
    monkeypatch.chdir(REPO)
    out, err, rc = api.run([])
    assert rc == 0, f'mypy found type errors:\n{out}{err}'
    assert 'Success' in out
