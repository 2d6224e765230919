"""The system prompt, and the shop handbook that turns on Bedrock prompt caching.

A support chatbot grounds its answers in a long, fixed text (policies, shipping, returns).
Sending it with every turn costs its full input price each time, so real chatbots put a
Converse ``cachePoint`` right after it: Bedrock writes the prefix to its prompt cache on
first use and later turns read it back at a tenth of the price, reported as
``cacheWriteInputTokens`` / ``cacheReadInputTokens`` (priced by the distro as
``gen_ai.token.type`` ``cache_write`` / ``cache_read``).

Real Bedrock caches a prefix only from a model's minimum length on (2,048 tokens for
Claude 3.5 Haiku, 1,024 for most Claude models); a shorter one is answered normally,
uncached. The text here is an excerpt kept short for the example; the local Bedrock server
caches any prefix.
"""

from __future__ import annotations

from typing import Any

SYSTEM_PROMPT = "You are a concise, friendly assistant for an online shop."

HANDBOOK = """\
Shop handbook (answer from it; say so when it has no answer).
Orders: an order can be changed or cancelled until it ships, usually within 24 hours of payment.
Shipping: standard delivery takes 3-5 working days, express 1-2; we ship to the EU, the UK,
Canada and the United States. Delivery slots can be booked for weekdays and Saturday mornings.
Returns: unworn shoes and clothes can be returned within 30 days for a full refund; sale items
within 14 days for a voucher. Refunds reach the original payment method within 5 working days.
Sizes: shoes follow EU sizes; rain jackets run large, so suggest one size down.
Payments: cards, PayPal and invoices for business customers. Never ask for a card number.
Escalation: complaints about damaged goods go to a human agent with the order number."""

CACHE_POINT: dict[str, Any] = {"cachePoint": {"type": "default"}}


def system_blocks(handbook: bool) -> list[dict[str, Any]]:
    """Converse ``system`` blocks: the prompt, and with ``handbook`` the handbook and a cache point after it."""
    blocks: list[dict[str, Any]] = [{"text": SYSTEM_PROMPT}]
    if handbook:
        blocks += [{"text": HANDBOOK}, CACHE_POINT]
    return blocks
