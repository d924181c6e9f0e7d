"""phone-delivery: PingOne's Phone Delivery Settings API, self-hosted, that really delivers."""

__version__ = "0.1.0"
