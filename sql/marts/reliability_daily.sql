-- reliability_daily: per machine and production day. A failure is an unplanned stop that is not a
-- minor stop and not a data gap (reason 'unknown') and has time in planned production time, counted on
-- the day it starts; its failure time is that time alone. A jam shown through a break is no failure,
-- and a stop interrupted only by breaks or time outside shifts, in one state throughout, is one.
-- mtbf_s = run time / failures; mttr_s = time in failure / failures (NULL without a failure).
with
failures as (
    -- summed in one order (their own), so the last bit does not depend on the order stops arrive in
    select line, machine, day, count(*) as failures,
        sum(in_planned_time_s order by in_planned_time_s) as failure_time_s
    from downtime_events
    where category = 'unplanned_stop' and not is_minor_stop and not is_data_gap and in_planned_time_s > 0
        and day in (select unnest($days::date[]))
    group by line, machine, day
),

final as (
    select
        o.site,
        o.area,
        o.line,
        o.machine,
        o.day,
        o.run_time_s,
        coalesce(f.failures, 0) as failures,
        coalesce(f.failure_time_s, 0) as failure_time_s,
        o.run_time_s / nullif(f.failures, 0) as mtbf_s,
        f.failure_time_s / nullif(f.failures, 0) as mttr_s
    from oee_daily as o
    left join failures as f on f.line = o.line and f.machine = o.machine and f.day = o.day
    where o.day in (select unnest($days::date[]))
)

select * from final
order by line, machine, day
