"""Tests of the benchmarks' shared helpers: means, standard errors and the written report."""

import json
import warnings

from lim_ros.bench.report import mean_of_known, report, standard_error
import numpy as np
import pytest


def test_mean_of_known_skips_nan_and_gives_nan_without_warning_where_nothing_is_known():
    values = np.array([[1.0, np.nan, np.nan], [3.0, 4.0, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        by_column = mean_of_known(values, axis=0)
        by_row = mean_of_known(values, axis=1)
        overall = mean_of_known(values)
        empty = mean_of_known(np.zeros((0, 2)), axis=0)
    assert by_column[:2].tolist() == [2.0, 4.0] and np.isnan(by_column[2])
    assert by_row.tolist() == [1.0, 3.5]
    assert float(overall) == pytest.approx(8.0 / 3.0)
    assert np.isnan(empty).all() and empty.shape == (2,)
    assert float(mean_of_known([2.0, 5.0])) == 3.5


def test_standard_error_is_the_jackknife_spread_of_the_mean():
    values = np.array([3.0, 5.0, 4.0, 10.0, 1.0])
    left_out = np.array([np.delete(values, i).mean() for i in range(values.size)])
    jackknife = np.sqrt((values.size - 1) / values.size
                        * ((left_out - left_out.mean()) ** 2).sum())
    assert standard_error(values) == pytest.approx(jackknife)
    assert standard_error([2.0, 2.0, 2.0]) == 0.0
    assert np.isnan(standard_error([4.0])) and np.isnan(standard_error([]))


def test_report_writes_the_rows_with_the_environment(tmp_path, capsys):
    rows = [{'method': 'a', 'error_%': 1.25}, {'method': 'b', 'error_%': 2.5}]
    out = tmp_path / 'deep' / 'bench.json'
    report('a title', rows, out)
    written = json.loads(out.read_text())
    assert written['title'] == 'a title' and written['rows'] == rows
    assert {'machine', 'torch', 'threads', 'cuda'} <= set(written['environment'])
    printed = capsys.readouterr().out
    assert 'a title' in printed and '1.25' in printed and 'wrote' in printed
