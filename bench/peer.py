"""The script a plant would write instead: pandas read_csv, pandera (pandas backend), to_parquet.

It applies the same checks as our landing of an AVEVA export: tag present, at most 256 characters and
free of control characters; DateTime a timestamp, local time made UTC (a nonexistent or ambiguous local
time is rejected); Quality / OPCQuality codes recognised and normalised to good, uncertain or bad; Value
a finite number; and the written table validated by a pandera schema (types, nullability, allowed
qualities, source line >= 1, tag + time unique). Rejected rows are written with their reason.

Written fairly: pandas' fastest ordinary reader (engine="pyarrow"), vectorised checks, lazy validation.
It needs pandas and pandera's pandas extra, which the project does not install; run with
`--peer-python` pointing at an interpreter that has them. Standalone: imports nothing of the project.
"""

from __future__ import annotations

import json
import os
import sys
import time

from .workers import peak_rss_mb

RESULT_PREFIX = "BENCH_RESULT "
PEER_PIN = 'pandas==3.1.1 "pandera[pandas]==0.35.0" pyarrow==26.0.1'


def run(path: str, out_dir: str, timezone: str) -> dict:
    import numpy as np
    import pandas as pd
    import pandera.pandas as pa

    schema = pa.DataFrameSchema(
        {
            "tag": pa.Column(str, nullable=False),
            "ts": pa.Column(pd.DatetimeTZDtype("us", "UTC"), nullable=False),
            "value": pa.Column(float, nullable=True),
            "quality": pa.Column(str, pa.Check.isin(["good", "uncertain", "bad"]), nullable=False),
            "source_line": pa.Column("int64", pa.Check.ge(1), nullable=False),
        },
        unique=["tag", "ts"],
        strict=True,
    )
    start = time.perf_counter()
    frame = pd.read_csv(
        path,
        engine="pyarrow",
        usecols=["DateTime", "TagName", "Value", "Quality", "OPCQuality"],
        dtype={"DateTime": str, "TagName": str, "Value": str, "Quality": str, "OPCQuality": str},
        keep_default_na=False,
    )
    n = len(frame)
    tag = frame["TagName"].str.strip()
    local = pd.to_datetime(frame["DateTime"].str.strip(), format="%Y-%m-%d %H:%M:%S.%f", errors="coerce")
    ts = local.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC").dt.as_unit("us")
    value = pd.to_numeric(frame["Value"].str.strip().replace("", np.nan), errors="coerce")
    q = pd.to_numeric(frame["Quality"], errors="coerce")
    opc = pd.to_numeric(frame["OPCQuality"], errors="coerce")
    q_grade = q.map({0: 0, 16: 1, 1: 2})
    opc_grade = pd.Series(np.select([opc >= 192, opc >= 64, opc >= 0], [0, 1, 2], default=-1), index=frame.index)
    opc_grade = opc_grade.where(opc.notna() & (opc_grade >= 0))
    grade = pd.concat([q_grade, opc_grade], axis=1).max(axis=1)
    quality = grade.map({0: "good", 1: "uncertain", 2: "bad"})

    reason = pd.Series(None, index=frame.index, dtype=object)

    def flag(mask, text):
        reason.loc[mask & reason.isna()] = text

    flag(tag == "", "TagName is empty")
    flag(tag.str.len() > 256, "TagName is longer than 256 characters")
    flag(tag.str.contains(r"[\x00-\x1f\x7f]", regex=True), "TagName contains control characters")
    flag(ts.isna(), "DateTime is not a timestamp, or a nonexistent or ambiguous local time")
    flag(frame["Quality"].ne("") & q_grade.isna(), "Quality code not recognised")
    flag(frame["OPCQuality"].ne("") & opc_grade.isna(), "OPCQuality code not recognised")
    flag(frame["Value"].ne("") & value.isna(), "Value is not a number")
    flag(np.isinf(value), "Value is not finite")
    ok = reason.isna()

    points = pd.DataFrame(
        {
            "tag": tag[ok],
            "ts": ts[ok],
            "value": value[ok].astype(float),
            "quality": quality[ok],
            "source_line": (frame.index[ok] + 2).astype("int64"),
        }
    )
    points = schema.validate(points, lazy=True)
    points.to_parquet(os.path.join(out_dir, "points.parquet"), index=False)
    rejects = pd.DataFrame({"line": frame.index[~ok] + 2, "reason": reason[~ok]})
    rejects.to_parquet(os.path.join(out_dir, "rejects.parquet"), index=False)
    return {"seconds": time.perf_counter() - start, "rows": n, "rows_ok": int(ok.sum())}


def main(argv: list[str]) -> None:
    args = json.loads(argv[0])
    try:
        import pandas  # noqa: F401
        import pandera.pandas  # noqa: F401
    except ImportError as exc:
        result = {"skipped": f"pandas / pandera[pandas] not installed ({exc}); install {PEER_PIN}"}
    else:
        result = run(args["file"], args["out_dir"], args["timezone"])
    result["peak_rss_mb"] = peak_rss_mb()
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
