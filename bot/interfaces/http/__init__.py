"""The help-desk HTTP service (`deskbot serve`): imported only when serving."""

from __future__ import annotations

from bot.interfaces.http.factory import create_app

__all__ = ["create_app"]
