"""HTTP and websocket routes: thin handlers that validate, call a service, return.

Each feature has its own router module; ``ROUTER_MODULES`` lists them (each exposes ``router``).
"""

ROUTER_MODULES = [
    "workstation.api.auth",
    "workstation.api.calls",
    "workstation.api.cards",
    "workstation.api.ws",
    "workstation.api.records",
    "workstation.api.tickets",
    "workstation.api.kb",
    "workstation.api.campaigns",
    "workstation.api.kpis",
    "workstation.api.callbacks",
]
