-- aveva_stage: one text batch of an AVEVA Historian export (view `aveva_batch`) as the staged rows of the
-- streaming readers (assets/readers/rows.py): value columns, the graded quality and the AVEVA reasons before
-- the value (sql/bronze/row_rules.sql, aveva_row_reason); the value's rules follow in rows_finish.sql.
with typed as (
    select
        source_line,
        trim("TagName") as tag,
        trim("DateTime") as t,
        ts_reason,
        "Value" as value_str,
        nullif(trim("Value"), '') as value_raw,
        nullif("vValue", '') as v_value,
        try_cast(nullif(trim("Quality"), '') as integer) as q,
        try_cast(nullif(trim("OPCQuality"), '') as integer) as opc,
        nullif(trim("Quality"), '') as q_raw,
        nullif(trim("OPCQuality"), '') as opc_raw,
        tag_control
    from aveva_batch
),
graded as (
    select *, aveva_quality_grade(q) as q_grade, aveva_opc_grade(opc) as opc_grade from typed
)
select
    source_line,
    tag,
    value_str,
    case when value_raw is null then v_value end as value_text,
    aveva_quality(q_grade, opc_grade) as quality,
    aveva_row_reason(tag, t, tag_control, ts_reason, q_raw, q_grade, opc_raw, opc_grade) as reason
from graded
