"""
Where the shipped model files are: the checkout's ``models/``, or the installed share folder.

A source checkout (and ``pip install -e .``) finds ``<repo>/models``; an installed package
(colcon, or a wheel's data files) finds ``<prefix>/share/lim_ros/models``. A checkpoint
setting names a file by path, or a shipped model by its bare file name
(``lrm_evidence.safetensors``), so a parameters file works wherever the package is installed.
"""

from pathlib import Path
import sys

from lim_ros.errors import CheckpointError

DEFAULT_LRM = 'lrm_base.safetensors'
DEFAULT_LIM = 'lim_base.safetensors'
DEFAULT_GENERATOR = 'mvdiff_prior.safetensors'


def shipped_model(name: str) -> Path:
    """Return the path of the shipped model file ``name``."""
    candidates = [Path(__file__).resolve().parents[2] / 'models' / name,
                  Path(sys.prefix) / 'share' / 'lim_ros' / 'models' / name]
    for path in candidates:
        if path.is_file():
            return path
    raise CheckpointError(f'{name}: shipped model not found (looked in '
                          f'{", ".join(str(p.parent) for p in candidates)})')


def model_path(setting: str, default: str) -> Path:
    """
    Return the file a checkpoint setting names.

    '' is the shipped ``default``; a path that exists (a file, or a generator folder) is
    itself; a bare file name that is nothing here but a shipped model is the shipped one.
    Anything else comes back as given, for the loader to refuse naming it.
    """
    if not setting:
        return shipped_model(default)
    path = Path(setting)
    if path.exists() or path.name != setting:
        return path
    try:
        return shipped_model(setting)
    except CheckpointError:
        return path
