"""``python -m phone_delivery`` runs the command line."""

from phone_delivery.cli import main

main()
