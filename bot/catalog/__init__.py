"""Provider settings: the bundled catalogue (Thunderbird ISPDB facts), overrides, discovery."""

from bot.catalog.catalog import Catalog
from bot.catalog.model import Provider, ServerSettings

__all__ = ["Catalog", "Provider", "ServerSettings"]
