"""Reading what customers type: pasted error texts (the error catalogue) and stated facts.

Pure and light: no I/O beyond reading the package's own data once, no imports of the engine,
the probes or the interfaces.
"""

from __future__ import annotations

from bot.reading.errors import (
    ErrorCatalogue,
    ErrorEntry,
    ErrorMatch,
    error_symptom,
    load_errors,
    pasted_error,
    pasted_symptom,
    read_errors,
)

__all__ = [
    "ErrorCatalogue", "ErrorEntry", "ErrorMatch", "error_symptom", "load_errors",
    "pasted_error", "pasted_symptom", "read_errors",
]
