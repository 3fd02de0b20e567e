"""The routers every build mounts, whatever features it has."""

from __future__ import annotations

from fastapi import APIRouter

from workstation.api import auth, calls, cards, ws

CORE_ROUTERS: tuple[APIRouter, ...] = (auth.router, calls.router, cards.router, ws.router)
