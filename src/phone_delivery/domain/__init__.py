"""Pure rules and use cases. Imports nothing from api, store, providers or the web framework."""
