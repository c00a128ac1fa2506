"""The symptom matcher: what a customer types → a symptom id, `clarify` or `none`.

Deterministic and explainable, no ML model: a shared vocabulary repairs spelling and maps
synonyms, each flow's `match:` examples supply the knowledge (term weights learned from them at
load time, bot.matcher.terms; the shape of a line, bot.matcher.clauses; the language of a line,
bot.matcher.language; how much it is about e-mail, bot.matcher.topics); bot.matcher.core
gathers the evidence and bot.matcher.decide turns it into a decision (a MatchResult).
"""

from __future__ import annotations

from bot.matcher.core import Matcher
from bot.matcher.decide import Candidate, Evidence, MatchResult
from bot.matcher.spec import MatchSpec
from bot.matcher.vocabulary import Vocabulary

__all__ = ["Candidate", "Evidence", "MatchResult", "MatchSpec", "Matcher", "Vocabulary"]
