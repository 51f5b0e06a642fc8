-- rows_times: a streaming reader's times (view `times`: row_id, ts_text, ts_num) to naive UTC and local
-- wall-clock times, or the reason they are not times (sql/bronze/row_rules.sql holds the rules). A time out
-- of the plausible range is nulled with its reason, so that no later step converts year 1 or 9999.
with src as (
    select row_id, trim(ts_text) as t, ts_num as n from times
),
epochs as (
    select
        *,
        -- a number in the text is an epoch only where the format has epochs and no timestamp_format is set
        coalesce(n, case
            when $epoch and not $has_format and regexp_full_match(coalesce(t, ''), '-?[0-9]+(\.[0-9]+)?')
                then try_cast(t as double)
        end) as epoch
    from src
),
scaled as (
    select
        *,
        case
            when epoch is null or isnan(epoch) or isinf(epoch) then null
            when $unit = 's' or ($unit = 'auto' and abs(epoch) < 1e11) then epoch * 1e6
            when $unit = 'ms' or ($unit = 'auto' and abs(epoch) < 1e14) then epoch * 1e3
            else epoch
        end as epoch_us
    from epochs
),
texts as (
    select row_id, epoch, epoch_us, t as shown, case when epoch is null then t end as t from scaled
),
forms as (
    select *, bronze_iso_form(t, $iso_pattern) as iso_form from texts
),
offsets as (
    select *, bronze_has_offset(t, iso_form) as has_offset from forms
),
parsed as (
    select
        row_id, shown, t, epoch, epoch_us, iso_form, has_offset,
        bronze_utc_naive(t, has_offset) as utc_naive,
        bronze_offset_s(t, has_offset) as offset_s,
        bronze_local_ts(t, iso_form, has_offset, $has_format, $time_format, $has_native, $native_formats) as local_ts
    from offsets
),
timed as (
    select
        row_id,
        shown,
        epoch,
        case
            when epoch_us is not null and abs(epoch_us) < 9e15 then make_timestamp(cast(round(epoch_us) as bigint))
            else utc_naive
        end as utc_naive,
        offset_s,
        local_ts,
        case
            when epoch is not null and (epoch_us is null or abs(epoch_us) >= 9e15)
                then $label || ' is not a timestamp: ' || cast(epoch as varchar)
            when epoch is not null then null
            else bronze_time_reason(t, iso_form, has_offset, utc_naive, local_ts, $label, $has_format, $time_format)
        end as ts_reason
    from parsed
),
checked as (
    select
        *,
        ts_reason is null and bronze_out_of_range(
            utc_naive, offset_s, local_ts,
            $max_offset_s, $earliest_utc, $latest_utc, $earliest_local, $latest_local
        ) as out_of_range
    from timed
)
select
    row_id,
    case when out_of_range then null else utc_naive end as utc_naive,
    case when out_of_range then null else local_ts end as local_ts,
    case
        -- the time as the file gives it: its text, or its epoch number
        when out_of_range then bronze_range_reason(
            coalesce(left(shown, 60), cast(epoch as varchar)), offset_s, $max_offset_s, $offset_note, $range_note
        )
        else ts_reason
    end as ts_reason
from checked
