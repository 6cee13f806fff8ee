"""The README's Python examples (engine API, LIM) run as written and give what they promise."""

from pathlib import Path
import re

import torch

README = Path(__file__).resolve().parents[1] / 'README.md'


def run_example(heading: str) -> dict:
    """Run the first Python block after ``heading``; return its namespace."""
    text = README.read_text()
    section = text[text.index(heading):]
    code = re.search(r'```python\n(.*?)```', section, re.S).group(1)
    torch.set_num_threads(1)
    namespace: dict = {}
    exec(compile(code, 'README.md', 'exec'), namespace)  # noqa: S102
    return namespace


def test_python_api_example_runs(capsys):
    namespace = run_example('### Python API')
    vertices, faces, points = capsys.readouterr().out.split(maxsplit=2)
    assert int(vertices) > 100 and int(faces) > 100
    assert points.strip() == '(5000, 3)'
    assert namespace['mesh'].signed_volume() > 0.0


def test_lim_example_runs():
    namespace = run_example('### Train, benchmark, use')
    assert namespace['mid'].planes.shape == namespace['k0'].planes.shape
    assert namespace['field'].sdf.shape == (1, 1)


def linked_files(page: Path) -> list[Path]:
    """Return the files a Markdown page links or shows by relative path, anchors dropped."""
    targets = re.findall(r'\]\(([^)#\s]+)(?:#[^)]*)?\)', page.read_text())
    return [page.parent / target for target in targets if '://' not in target]


def test_every_image_the_readme_shows_is_in_the_repository():
    shown = re.findall(r'!\[[^\]]*\]\(([^)]+)\)', README.read_text())
    assert 'docs/tracking_evidence/held_out.png' in shown
    missing = [path for path in shown if not (README.parent / path).is_file()]
    assert not missing, missing


def test_every_file_the_readme_and_its_result_pages_link_exists():
    pages = [README, *sorted((README.parent / 'docs' / 'results').glob('*.md'))]
    assert len(pages) >= 3
    linked = {page.name: linked_files(page) for page in pages}
    assert README.parent / 'docs/results/tracking.md' in linked['README.md']
    assert any(path.name == 'README.md' for path in linked['tracking.md'])
    missing = [str(path) for paths in linked.values() for path in paths if not path.exists()]
    assert not missing, missing
