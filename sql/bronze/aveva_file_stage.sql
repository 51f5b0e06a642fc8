-- aveva_file_stage: a whole plain AVEVA Historian export in one parallel DuckDB pass, by the same rules as
-- the streaming readers (sql/bronze/row_rules.sql: tag, time, AVEVA quality, value), in the same order.
-- Every row comes out, in the export's order: points (`reason` null) with tag, ts (UTC), value, value_text
-- and quality; rejected rows with their reason and raw text (the fields joined by commas). The caller
-- writes the result to Parquet (COPY ... TO, whose target takes no bind parameter).
--
-- `$columns` names the file's columns: the known ones by their canonical names, the others `_extra_<i>`.
-- The union by name with an empty row of every known column gives an absent optional column as null.
with src as (
    select
        coalesce("DateTime", '') as "DateTime",
        coalesce("TagName", '') as "TagName",
        coalesce("Value", '') as "Value",
        coalesce("vValue", '') as "vValue",
        coalesce("Quality", '') as "Quality",
        coalesce("QualityDetail", '') as "QualityDetail",
        coalesce("OPCQuality", '') as "OPCQuality"
    from (
        select *
        from read_csv(
            $path, header = false, skip = $header_line, columns = $columns, auto_detect = false,
            delim = $delimiter, quote = '"', escape = '"', strict_mode = true, null_padding = false,
            all_varchar = true, encoding = 'utf-8', max_line_size = $max_line_size
        )
        union all by name
        select
            null::varchar as "DateTime", null::varchar as "TagName", null::varchar as "Value",
            null::varchar as "vValue", null::varchar as "Quality", null::varchar as "QualityDetail",
            null::varchar as "OPCQuality"
        where false
    )
),
typed as (
    select
        *,
        bronze_strip("TagName") as tag,
        bronze_strip("DateTime") as t,
        nullif(bronze_strip("Value"), '') as vs,
        nullif("vValue", '') as v_value,
        nullif(bronze_strip("Quality"), '') as q_raw,
        nullif(bronze_strip("OPCQuality"), '') as opc_raw
    from src
),
forms as (
    select *, bronze_iso_form(t, $iso_pattern) as iso_form from typed
),
parsed as (
    select
        *,
        bronze_utc_naive(t, has_offset) as utc_naive,
        bronze_offset_s(t, has_offset) as offset_s,
        bronze_local_ts(t, iso_form, has_offset, $has_format, $time_format, $has_native, $native_formats) as local_ts,
        aveva_quality_grade(try_cast(q_raw as integer)) as q_grade,
        aveva_opc_grade(try_cast(opc_raw as integer)) as opc_grade,
        try_cast(vs as double) as num
    from (select *, bronze_has_offset(t, iso_form) as has_offset from forms)
),
timed as (
    select
        *,
        bronze_time_reason(t, iso_form, has_offset, utc_naive, local_ts, $label, $has_format, $time_format)
            as time_reason
    from parsed
),
checked as (
    select
        *,
        time_reason is null and bronze_out_of_range(
            utc_naive, offset_s, local_ts,
            $max_offset_s, $earliest_utc, $latest_utc, $earliest_local, $latest_local
        ) as out_of_range
    from timed
),
graded as (
    select
        *,
        case
            when out_of_range then bronze_range_reason(left(t, 60), offset_s, $max_offset_s, $offset_note, $range_note)
            else time_reason
        end as ts_reason,
        aveva_quality(q_grade, opc_grade) as grade,
        case when vs is null then v_value end as text_value
    from checked
),
reasoned as (
    select
        *,
        coalesce(
            -- a tag with control characters is left to the streaming reader (see stage_file)
            aveva_row_reason(tag, t, false, ts_reason, q_raw, q_grade, opc_raw, opc_grade),
            bronze_value_reason(text_value, num, vs, vs is not null and num is null, false, false, grade, 'Value')
        ) as reason
    from graded
)
select
    tag,
    case when ts_reason is null then coalesce(cast(utc_naive as timestamptz), timezone($timezone, local_ts)) end
        as ts,
    case when text_value is null then num end as value,
    text_value as value_text,
    grade as quality,
    reason,
    case
        when reason is not null
            then concat_ws(',', "DateTime", "TagName", "Value", "vValue", "Quality", "QualityDetail", "OPCQuality")
    end as raw
from reasoned
