"""Words for the provider error codes people meet most, shown next to the code in tables.

One table, Twilio's only: its codes are public, stable and few matter in practice (documented at
https://www.twilio.com/docs/api/errors). Syniverse's and custom gateways' codes are shown as they
come: they have no small, well-defined set to explain. JSON output never changes.
"""

from __future__ import annotations

TWILIO_PROVIDERS = frozenset(
    {"PINGONE_TWILIO", "CUSTOM_TWILIO", "CUSTOM_TWILIO_MESSAGING_SERVICE", "CUSTOM_TWILIO_VERIFY"}
)
TWILIO_ERRORS = {
    "21211": "not a valid phone number",
    "21408": "the Twilio account may not send to this region (its geographic permissions)",
    "21610": "the recipient unsubscribed (replied STOP)",
    "21612": "the sending number cannot reach this recipient",
    "21614": "not a mobile number (a landline?)",
    "30003": "the handset is unreachable: off, out of coverage, or cannot take SMS",
    "30004": "blocked by the recipient or their carrier",
    "30005": "unknown handset: the number does not exist or is not in service",
    "30006": "a landline, or a carrier that cannot be reached",
    "30007": "filtered by the carrier (spam or content rules)",
    "30008": "the carrier reported an unknown error",
}


def describe(code: object, message: object, provider: object = None) -> str:
    """``code message``, with the code's meaning when it is one of Twilio's known ones."""
    text = " ".join(str(v) for v in (code, message) if v)
    meaning = TWILIO_ERRORS.get(str(code)) if provider is None or provider in TWILIO_PROVIDERS else None
    return f"{text} ({meaning})" if meaning else text
