"""The core's HTTP and WebSocket handlers: thin layers over the services in ``hub``."""
