-- oee_periods: the table macro behind the weekly and monthly OEE marts (oee_weekly, oee_monthly,
-- oee_line_weekly, ...), written once for every level. `daily` names a daily OEE mart (oee_daily,
-- oee_line_daily or oee_site_daily) and `period` is 'week' (ISO weeks, named by their Monday) or 'month'.
--
-- The times and counts are the sums over the production days of each period; the ratios are taken from
-- those sums through the macros of oee_ratios.sql (never an average of the days' ratios), so that a day
-- that planned more weighs more and availability x performance x quality = oee here too. Sums add in day
-- order, so days published in any order give bit-identical rows. A mart keeps the periods of the days
-- being rebuilt (`days`), summed from every day of them, not just the days rebuilt.
--
-- The daily marts differ in their columns (a machine's counts, a line's output counts and machine
-- times): each is read with the columns of the others added as NULL, and each period mart leaves out the
-- columns that are not its level's. Quality on a machine's row is good / total where the machine has one
-- ideal cycle for everything it makes (the cycle cancels); on a machine making products at different
-- cycles, and on a line or the site, fully productive / ideal time (counts of different machines, or of
-- products at different rates, do not add up).
create or replace temp macro oee_periods(daily, period, days) as table
with
scope as (
    select distinct cast(date_trunc(period, d) as date) as period_start from (select unnest(days) as d)
),

rows as (
    select * from query_table(daily)
    union all by name
    -- every level's columns, so that the sums below bind on each daily mart
    select
        null::varchar as area, null::varchar as line, null::varchar as machine, null::bigint as machines,
        null::double as scheduled_time_s, null::double as break_time_s, null::double as not_scheduled_time_s,
        null::double as machine_calendar_time_s, null::double as machine_scheduled_time_s,
        null::bigint as total_count, null::bigint as good_count, null::bigint as reject_count,
        null::bigint as output_total_count, null::bigint as output_good_count, null::bigint as output_reject_count
    where false
),

summed as (
    select
        site, area, line, machine,
        cast(date_trunc(period, day) as date) as period_start,
        count(*) as days,
        max(machines) as machines,
        sum(calendar_time_s order by day) as calendar_time_s,
        sum(scheduled_time_s order by day) as scheduled_time_s,
        sum(break_time_s order by day) as break_time_s,
        sum(not_scheduled_time_s order by day) as not_scheduled_time_s,
        sum(machine_calendar_time_s order by day) as machine_calendar_time_s,
        sum(machine_scheduled_time_s order by day) as machine_scheduled_time_s,
        sum(planned_production_time_s order by day) as planned_production_time_s,
        sum(run_time_s order by day) as run_time_s,
        sum(planned_stop_time_s order by day) as planned_stop_time_s,
        sum(unplanned_stop_time_s order by day) as unplanned_stop_time_s,
        sum(minor_stop_time_s order by day) as minor_stop_time_s,
        sum(unknown_state_time_s order by day) as unknown_state_time_s,
        cast(sum(total_count) as bigint) as total_count,
        cast(sum(good_count) as bigint) as good_count,
        cast(sum(reject_count) as bigint) as reject_count,
        cast(sum(output_total_count) as bigint) as output_total_count,
        cast(sum(output_good_count) as bigint) as output_good_count,
        cast(sum(output_reject_count) as bigint) as output_reject_count,
        sum(ideal_time_s order by day) as ideal_time_s,
        sum(quality_loss_s order by day) as quality_loss_s,
        sum(fully_productive_time_s order by day) as fully_productive_time_s,
        bool_and(data_quality_ok) as data_quality_ok,
        count(*) filter (where not data_quality_ok) as poor_data_days
    from rows
    where cast(date_trunc(period, day) as date) in (select period_start from scope)
    group by site, area, line, machine, cast(date_trunc(period, day) as date)
),

measured as (
    select
        * exclude (single_cycle),
        strftime(period_start, '%G-W%V') as iso_week,
        availability(run_time_s, planned_production_time_s) as availability,
        performance(ideal_time_s, run_time_s) as performance,
        case
            when machine is not null and single_cycle then quality(good_count, total_count)
            else quality(fully_productive_time_s, ideal_time_s)
        end as quality,
        oee(fully_productive_time_s, planned_production_time_s) as oee,
        planned_production_time_s - run_time_s as availability_loss_s,
        run_time_s - ideal_time_s as performance_loss_s,
        unplanned_stop_time_s as breakdown_loss_s,
        planned_stop_time_s as setup_loss_s,
        minor_stop_time_s as minor_stop_loss_s,
        run_time_s - ideal_time_s - minor_stop_time_s as speed_loss_s,
        fully_productive_time_s / nullif(coalesce(machine_calendar_time_s, calendar_time_s), 0) as teep,
        planned_production_time_s / nullif(coalesce(machine_calendar_time_s, calendar_time_s), 0) as utilization
    from (
        -- a machine whose every product runs at its own ideal cycle (a plant without products) has one cycle:
        -- quality from its counts; with products at other cycles, from ideal seconds (each at its product's)
        select
            s.*,
            (select count(distinct p.ideal_cycle_time_s) from plant__product as p
             where p.line = s.line and p.machine = s.machine) <= 1 as single_cycle
        from summed as s
    )
)

-- the OEE target of the row's level in the plant YAML (plant__target), and how far the OEE is above (+) or
-- below (-) it
select m.*, t.oee_target, m.oee - t.oee_target as oee_target_gap
from measured as m
left join plant__target as t
    on t.level = case when m.machine is not null then 'machine' when m.line is not null then 'line' else 'site' end
    and t.site = m.site
    and t.line is not distinct from m.line
    and t.machine is not distinct from m.machine
