"""The command line's client side: it talks to a running server through the public API only.

``profiles`` finds the server and credentials, ``api`` speaks HTTP (token, requests, PingOne's error
body), ``lookup`` turns names into ids, ``sender_files`` and ``sender_apply`` read and apply sender
files, ``policy_files`` reads notification policy files and compares them with the server's,
``output`` renders tables or JSON, and ``commands`` holds the typer command groups.
"""
