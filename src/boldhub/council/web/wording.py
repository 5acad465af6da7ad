"""How command-line messages and sizes read on the page."""

from __future__ import annotations


def sentence(message: str) -> str:
    """A one-line CLI message as a sentence for the page."""
    text = message.strip()
    first = text.split(" ", 1)[0]
    if not text or any(ch in first for ch in ".:/_") or first.isupper():
        return text  # a file name, a code such as E08000025: keep it exactly
    return text[:1].upper() + text[1:]


def size(n: int) -> str:
    return f"{n / 1024**2:.0f} MB" if n >= 1024**2 else f"{n / 1024:.0f} KB"
