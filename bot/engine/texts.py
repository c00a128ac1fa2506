"""The engine's own wording (flows supply everything else)."""

from __future__ import annotations

DESCRIBE = "What is going wrong with your e-mail? Describe it in your own words."
_NOTICE = (
    "Tell me what you notice, for example \"my messages stay in the Outbox\", \"it keeps "
    "asking for my password\" or \"I get a certificate warning\"."
)
DESCRIBE_HELP = f"No problem. {_NOTICE}"
GREETED = f"Hello! {_NOTICE}"
DESCRIBE_AGAIN = "All right. Please describe the problem in a few words."
NOT_EMAIL = (
    "Sorry, that does not sound like an e-mail problem I can check ({n}/{max}). Please describe "
    "what goes wrong with your e-mail, for example \"my mail is stuck in the outbox\", or say "
    "\"talk to a person\"."
)
ENGLISH_ONLY = "Sorry, I can only help in English ({language} detected)."
ENGLISH_OR_PERSON = (
    "Please describe the problem in English, or answer \"yes\" and I'll pass you to a person."
)
CLARIFY = "Which of these is closest to your problem?"
SOMETHING_ELSE = "Something else"
ONE_AT_A_TIME = (
    "Let's take them one at a time, starting with: {first}. When we are done, start a new "
    "conversation for: {second}."
)
STARTING = "Let's look at this: {title}."
SWITCH = "It sounds like a different problem: {title}. Shall we look at that instead?"
YES_OR_NO = "Please answer yes or no."
OFFER_HUMAN = (
    "I'm having trouble understanding, sorry. Would you like me to pass you to a person?"
)
CONTINUE_ANYWAY = "Let's keep going, then."
MISUNDERSTOOD = "Sorry, I didn't understand that ({n}/{max}). {hint}"
TRUNCATED = "That was a long message; I read only the first {limit} characters."
EMPTY = "I didn't get any text."
ENDED = (
    "This conversation has ended ({status}). Say \"start over\" to look at another problem."
)
ABANDONED = "The conversation ended before we found out what the problem is."
TAKING_UNKNOWN = "No problem, I'll work it out without that."
CANNOT_GO_BACK = "There is no earlier question to go back to."
GOING_BACK = "Going back to the previous question."
RESTART = "Let's start over. What is going wrong with your e-mail?"
ALSO_NOTICED = "Also noticed, comparing your app's settings with {name}'s:"
SECRET_NOT_KEPT = (
    "That looks like your password, so I did not keep it. Please don't type it here unless I "
    "ask for it (then the input is hidden)."
)
PASSWORD_IN_CHAT = (
    "Please don't type your password into the chat: I did not keep it, and I won't use it. "
    "If a login test helps, I will ask for your consent first and then for the password in a "
    "hidden field."
)
HUMAN_ASKED = "I'll pass you to a person."
HANDOFF_TAIL = (
    "A support agent will take over; they will see what we covered and every check I ran, "
    "but never your password."
)
RUNNER_FAULT = (
    "One of my checks came back incomplete, so I can't name the cause with confidence, and I "
    "won't guess."
)
RESOLVED_DEFAULT = "That should solve it."
SETTINGS_HEADER = "The settings to use:"

_HINTS = {
    "email": "Please type your e-mail address, like name@example.com.",
    "yesno": "Please answer yes or no.",
    "choice": "Please pick one of the options by its number or name.",
    "host": "Please type a server name, like mail.example.com.",
    "port": "Please type a port number, like 587.",
    "security": "Please answer SSL/TLS, STARTTLS or None.",
    "protocol": "Please answer POP3 or IMAP.",
    "client": "Please tell me which mail app you use, like Outlook or Thunderbird.",
}
_REPAIR_HINT = (
    "You can also say \"I don't know\", \"go back\", \"start over\" or \"talk to a person\"."
)


def greeting(vantage: str) -> str:
    """What deskbot says first: what it can do, and where its checks run from."""
    where = "the help desk's server" if vantage == "server" else "this computer"
    return (
        "Hi, I'm deskbot. I troubleshoot e-mail: mail stuck in the Outbox, rejected logins, "
        "mail that doesn't arrive, certificate warnings and account settings. I run real "
        f"network checks (DNS, ports, encryption, login) from {where} to prove the cause."
    )


def hint(kind: str) -> str:
    """How to answer a question of this type, plus the repair phrases."""
    return f"{_HINTS.get(kind, 'Please answer the question.')} {_REPAIR_HINT}"


CUSTOMER_EVIDENCE = "The checks from your computer have arrived. Here is what they show."
