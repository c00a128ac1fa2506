"""Where the bundled flows are: package data of `bot.bundled_flows`, found with importlib.resources.

The repository keeps them in the top-level `flows/` folder; pyproject maps the package
`bot.bundled_flows` onto it, so a wheel, `pip install .` and `pip install -e .` all carry them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from bot.errors import ConfigError

BUNDLED_PACKAGE = "bot.bundled_flows"


def default_flows_dir() -> Path:
    """The folder of the flows shipped with deskbot (a real directory on disk).

    Raises ConfigError when the package data is not on the file system (e.g. inside a zip).
    """
    try:
        root = resources.files(BUNDLED_PACKAGE)
    except ModuleNotFoundError:
        # A source checkout run without installing (or installed before the mapping existed):
        # the flows sit beside the package.
        return Path(__file__).resolve().parents[2] / "flows"
    if not isinstance(root, Path):
        raise ConfigError(f"the bundled flows are not a folder on disk ({root}); "
                          "install deskbot unzipped")
    return root


def flow_folders(own: str | Path | None = None) -> tuple[Path, ...]:
    """The folders to load as layers: the bundled flows, then a help desk's own on top."""
    bundled = default_flows_dir()
    return (bundled,) if own is None else (bundled, Path(own))
