"""A stateful Twilio stand-in speaking Twilio's wire format, with an admin API for tests and demos.

Mounted under ``/sandbox`` by ``phone-delivery dev``, or run alone by ``phone-delivery sandbox``.
"""
