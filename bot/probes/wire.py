"""What a customer's value may contain before it is written into a mail protocol line.

SMTP (RFC 5321 §2.3.8), POP3 (RFC 1939 §3) and IMAP (RFC 9051 §4.3: a quoted string holds no
CR or LF) end a command at CRLF. A CR, LF or NUL inside a username, password or address would
end the command early and let the rest run as commands of their own: one conversation, counted
as one login test, could deliver hundreds of LOGINs to someone else's server. Such a value is
never sent; the probe says why instead.
"""

from __future__ import annotations

LINE_BREAKERS = frozenset("\r\n\x00")
REFUSED = ("not sent: it contains a line break, NUL or invalid character, which a mail "
           "server would read as the end of the command")


def wire_unsafe(*values: str) -> bool:
    """True when any value holds CR, LF or NUL (it cannot be one protocol line), or a lone
    surrogate (it cannot be encoded as UTF-8 at all)."""
    return any(not LINE_BREAKERS.isdisjoint(value) or not _encodable(value) for value in values)


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
