"""`--config F` for every command: read, then checked before anything runs (fail fast)."""

from __future__ import annotations

from pathlib import Path

from bot.config import Config


def load_config(path: str | Path | None, *, serve_mode: bool = False) -> Config:
    """The config, checked: CA file, nameservers and catalogue files (CONTRACT.md).

    Raises ConfigError or CatalogError with one line naming the file and the problem; the
    CLI turns it into exit status 2.
    """
    config = Config.load(path, serve_mode=serve_mode)
    if config.catalog_files:
        # Imported only when there are files: the catalogue's parser is not needed otherwise.
        from bot.catalog.catalog import check_config_files

        check_config_files(config)
    return config
