-- rows_finish: a streaming reader's staged rows (view `staged`, see assets/readers/rows.py) typed and
-- decided: a point, or a reject with the first reason of sql/bronze/row_rules.sql. Wall-clock times are
-- converted to UTC afterwards, in Python (the daylight-saving gap and the repeated hour).
with src as (
    select
        *,
        nullif(trim(value_str), '') as vs
    from staged
),
numbers as (
    select
        *,
        case
            when vs is null then null
            when $decimal_comma and contains(vs, ',') then replace(replace(replace(vs, ' ', ''), '.', ''), ',', '.')
            else vs
        end as vs_number
    from src
),
typed as (
    select
        *,
        coalesce(value_num, try_cast(vs_number as double)) as num,
        value_text is null and value_num is null and vs is not null
            and try_cast(vs_number as double) is null as is_text,
        value_text is null and value_num is null and vs is not null
            and try_cast(vs_number as double) is null and list_contains($bad_states, lower(vs)) as is_bad_state
    from numbers
)
select
    source_line,
    tag,
    local_ts,
    utc_ts,
    case when value_text is null and not is_text then num end as value,
    coalesce(value_text, case when is_text then vs end) as value_text,
    case when is_bad_state then 'bad' else coalesce(quality, 'good') end as quality,
    coalesce(
        reason,
        bronze_tag_reason(tag, tag_control, $tag_label),
        ts_reason,
        bronze_value_reason(
            value_text, num, coalesce(vs, cast(value_num as varchar)), is_text, is_bad_state, $text_values,
            quality, $value_label
        )
    ) as reason
from typed
