-- rows_check_times: typed times (view `typed_times`: row_id, utc_naive, local_ts, ts_reason; a Parquet
-- timestamp column) through the plausibility check of rows_times.sql, with the same reason.
with checked as (
    select
        *,
        ts_reason is null and bronze_out_of_range(
            utc_naive, null, local_ts,
            $max_offset_s, $earliest_utc, $latest_utc, $earliest_local, $latest_local
        ) as out_of_range
    from typed_times
)
select
    row_id,
    case when out_of_range then null else utc_naive end as utc_naive,
    case when out_of_range then null else local_ts end as local_ts,
    case
        -- the time as written
        when out_of_range then bronze_range_reason(
            coalesce(cast(utc_naive as varchar), cast(local_ts as varchar)), null, $max_offset_s, $offset_note, $range_note
        )
        else ts_reason
    end as ts_reason
from checked
