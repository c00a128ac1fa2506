"""deskbot: an e-mail troubleshooter that runs real network probes to prove the cause."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
