"""Scrub personal data and secrets from captured prompt/completion text.

Content capture is opt-in, but even then e-mail addresses, phone numbers, card numbers
and credentials should not reach a telemetry backend. Patterns are tuned against false
positives on ordinary numbers: phone numbers need separators or a ``+`` prefix, card
numbers must pass the Luhn check, long tokens must mix character classes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


def luhn_valid(digits: str) -> bool:
    """True if the digit string passes the Luhn checksum used by payment cards."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _is_card(match: str) -> bool:
    digits = _digits(match)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def _is_phone(match: str) -> bool:
    digits = _digits(match)
    if not 8 <= len(digits) <= 15:
        return False
    if match.lstrip().startswith(("+", "(")):
        return True
    # Without a "+" or area-code parentheses, require the classic 3-3-4 / 2-4-4 shapes
    # so dates (2024-01-15) and version numbers never qualify.
    groups = re.split(r"[ .-]+", match.strip())
    return len(groups) >= 3 and all(len(g) >= 2 for g in groups) and len(groups[-1]) >= 4


def _mixed_classes(match: str) -> bool:
    return any(c.isdigit() for c in match) and any(c.islower() for c in match) and any(c.isupper() for c in match)


def _hex_secret(match: str) -> bool:
    return any(c.isdigit() for c in match) and any(c.isalpha() for c in match)


@dataclass(frozen=True)
class Rule:
    """A named pattern; ``check`` can veto a regex match (e.g. a failed Luhn check)."""

    kind: str
    pattern: re.Pattern[str]
    check: Callable[[str], bool] | None = None


DEFAULT_RULES: tuple[Rule, ...] = (
    # First: a PEM block as a whole, BEGIN/END lines and short last lines included (or to the end
    # of a text that was cut before its END line).
    Rule(
        "private_key",
        re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)"),
    ),
    Rule("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    Rule("api_key", re.compile(r"\bsk-[A-Za-z0-9_-]{16,}")),
    # Before bearer_token: a JWT whose claims are short would otherwise keep them.
    Rule("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")),
    Rule("bearer_token", re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{16,}=*")),
    Rule("email", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")),
    # A card number may end a sentence ("... 4111 1111 1111 1111."), but not be part of a decimal.
    Rule("card_number", re.compile(r"(?<!\d)(?<!\d\.)\d(?:[ -]?\d){12,18}(?!\d|\.\d)"), _is_card),
    Rule(
        "phone",
        re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}(?![\w])"),
        _is_phone,
    ),
    Rule("hex_secret", re.compile(r"\b[0-9a-fA-F]{32,}\b"), _hex_secret),
    Rule(
        "base64_secret",
        re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{40,}={0,2}(?![A-Za-z0-9+/=_-])"),
        _mixed_classes,
    ),
    # Last: international numbers written without the grouping the rule above needs
    # (+14155550132, +49 30 901820, +33 1 23 45 67 89).
    Rule(
        "phone",
        re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,8}\)?){1,6}(?![\w])"),
        _is_phone,
    ),
)
"""Rules applied in order; earlier rules win where matches overlap."""


class Redactor:
    """Replaces sensitive substrings in text (and in nested message structures).

    ``replacement`` may contain ``{kind}`` (e.g. ``"[REDACTED:{kind}]"``). Extra
    patterns (strings or compiled regexes) run after the defaults with kind ``custom``.
    """

    def __init__(
        self,
        *,
        replacement: str = "[REDACTED]",
        extra_patterns: Iterable[str | re.Pattern[str]] = (),
        include_defaults: bool = True,
    ) -> None:
        rules = list(DEFAULT_RULES) if include_defaults else []
        for pattern in extra_patterns:
            compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
            rules.append(Rule("custom", compiled))
        self._rules = tuple(rules)
        self._replacement = replacement

    def _replace(self, kind: str) -> str:
        return self._replacement.replace("{kind}", kind)

    def redact(self, text: str) -> str:
        """``text`` with every sensitive match replaced."""
        if not isinstance(text, str) or not text:
            return text
        for rule in self._rules:

            def substitute(match: re.Match[str], rule: Rule = rule) -> str:
                found = match.group(0)
                if rule.check is not None and not rule.check(found):
                    return found
                return self._replace(rule.kind)

            text = rule.pattern.sub(substitute, text)
        return text

    def redact_value(self, value: Any) -> Any:
        """Redact every string inside nested dicts/lists (keys are left alone)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self.redact_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_value(v) for v in value]
        return value
