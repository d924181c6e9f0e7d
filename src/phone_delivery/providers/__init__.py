"""One module per vendor behind the ``SenderProvider`` protocol; ``registry`` maps wire names to them."""
