"""HTTP and websocket routes: thin handlers that validate, call a service, return.

The core routers (sign-in, calls, the card, the websocket) are mounted always; each feature brings its own
router through its feature module (``workstation.container.Feature``).
"""
