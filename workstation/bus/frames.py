"""A bus message with its JSON text: encoded once on the node that publishes it, for Redis and for every
websocket it reaches; a node that receives it from Redis keeps the text it got (no second encoding)."""

from __future__ import annotations

import json
from typing import Any


class Frame(dict[str, Any]):
    """A message (a dict) and ``text``, its JSON."""

    text: str


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, default=str, ensure_ascii=False, separators=(",", ":"))


def frame_of(message: dict[str, Any]) -> Frame:
    if isinstance(message, Frame):
        return message
    frame = Frame(message)
    frame.text = encode(message)
    return frame


def decoded(text: str) -> Frame:
    """The frame of a JSON text received from another node (``ValueError`` when it is no JSON object)."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    frame = Frame(value)
    frame.text = text
    return frame
