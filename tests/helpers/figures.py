"""The figures a test prints for whoever reads its output (with -s, or the captured output of a failure)."""

from __future__ import annotations


def report(title: str, figures: dict) -> None:
    """Print a test's figures (shown with -s, and in the captured output of a failure)."""
    print(f"\n[{title}] " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
