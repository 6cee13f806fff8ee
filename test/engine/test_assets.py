"""Tests of where checkpoint settings point (lim_ros.engine.assets.model_path)."""

from lim_ros.engine.assets import DEFAULT_LIM, DEFAULT_LRM, model_path, shipped_model
from lim_ros.errors import CheckpointError
from lim_ros.models.lrm import load_lrm
import pytest


def test_empty_is_the_shipped_default_and_a_bare_shipped_name_is_the_shipped_file():
    assert model_path('', DEFAULT_LRM) == shipped_model(DEFAULT_LRM)
    assert model_path('', DEFAULT_LIM).name == DEFAULT_LIM
    evidence = model_path('lrm_evidence.safetensors', DEFAULT_LRM)
    assert evidence == shipped_model('lrm_evidence.safetensors') and evidence.is_file()


def test_a_file_here_wins_over_a_shipped_one_of_the_same_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'lrm_evidence.safetensors').write_bytes(b'mine')
    assert model_path('lrm_evidence.safetensors', DEFAULT_LRM).resolve() \
        == tmp_path / 'lrm_evidence.safetensors'


def test_other_names_come_back_as_given_and_the_loader_names_them(tmp_path):
    missing = tmp_path / 'lrm_evidence.safetensors'  # a path: never looked up as shipped
    assert model_path(str(missing), DEFAULT_LRM) == missing
    assert str(model_path('nowhere.safetensors', DEFAULT_LRM)) == 'nowhere.safetensors'
    with pytest.raises(CheckpointError, match='nowhere.safetensors'):
        load_lrm(model_path('nowhere.safetensors', DEFAULT_LRM))
