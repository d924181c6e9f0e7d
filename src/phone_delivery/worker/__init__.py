"""The delivery worker: claims due notifications with a lease and sends them along the chain."""
