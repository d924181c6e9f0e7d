"""Sending: accepting notifications into the outbox, resolving senders, status callbacks."""
