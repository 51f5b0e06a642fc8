"""Historian exports written by the tests: the AVEVA History CSV header, one row, and a whole file."""

from __future__ import annotations

from pathlib import Path

HEADER = "DateTime,TagName,Value,vValue,Quality,QualityDetail,OPCQuality,wwRetrievalMode\n"


def aveva_row(local: str, tag: str, value, quality: int = 0) -> str:
    """One AVEVA History export row; local is 'YYYY-MM-DD HH:MM:SS'."""
    opc = {0: 192, 16: 64, 1: 0}[quality]
    text = "" if value is None else str(value)
    return f"{local}.000,{tag},{text},{text},{quality},{192 if quality == 0 else 0},{opc},Delta\n"


def aveva_text_row(local: str, tag: str, text: str, quality: int = 0) -> str:
    """One AVEVA History export row of a string tag (a product tag): no Value, the text in vValue."""
    opc = {0: 192, 16: 64, 1: 0}[quality]
    return f"{local}.000,{tag},,{text},{quality},{192 if quality == 0 else 0},{opc},Delta\n"


def write_aveva(path: Path, rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path
