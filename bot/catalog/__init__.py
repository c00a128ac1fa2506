"""Provider settings: the bundled catalogue (Thunderbird ISPDB facts), overrides, rules.

Pure data and parsing; finding a provider on the network (discovery) is a probe:
bot.probes.discovery.
"""

from bot.catalog.catalog import Catalog
from bot.catalog.model import Provider, ServerSettings

__all__ = ["Catalog", "Provider", "ServerSettings"]
