-- downtime_pareto: per line (machine NULL) and per machine, per production day and per ISO week
-- (period_start = its Monday): seconds and events per reason, ranked, with share and cumulative share.
-- Built from downtime_events, so a stop counts once, in the day and week in which it starts.
-- Only a stop's seconds in planned production time count, and a stop with none is no event here: a jam
-- shown through a break or time without a state at night is no loss of production.
-- Sums add in a fixed order (by start, machine): days published in any order give bit-identical rows.
with
scope_days as (
    select unnest($days::date[]) as day
),

scope_weeks as (
    select distinct cast(date_trunc('week', day) as date) as week from scope_days
),

events as (
    select
        site, area, line, machine, day,
        cast(date_trunc('week', day) as date) as week,
        coalesce(reason, '(no reason)') as reason,
        category,
        start,
        in_planned_time_s as seconds
    from downtime_events
    where in_planned_time_s > 0
),

by_period as (
    select site, area, line, machine, 'day' as period, day as period_start, reason, category,
           sum(seconds order by start, machine) as seconds, count(*) as events
    from events
    where day in (select day from scope_days)
    group by all
    union all
    select site, area, line, null as machine, 'day', day, reason, category, sum(seconds order by start, machine), count(*)
    from events
    where day in (select day from scope_days)
    group by all
    union all
    select site, area, line, machine, 'week', week, reason, category, sum(seconds order by start, machine), count(*)
    from events
    where week in (select week from scope_weeks)
    group by all
    union all
    select site, area, line, null, 'week', week, reason, category, sum(seconds order by start, machine), count(*)
    from events
    where week in (select week from scope_weeks)
    group by all
),

ranked as (
    select
        *,
        seconds / nullif(sum(seconds) over whole, 0) as share,
        sum(seconds) over (ordered rows unbounded preceding) / nullif(sum(seconds) over whole, 0) as cumulative_share,
        row_number() over ordered as rank
    from by_period
    window
        w as (partition by site, area, line, machine, period, period_start),
        ordered as (w order by seconds desc, reason, category),
        whole as (ordered rows between unbounded preceding and unbounded following)
)

select * from ranked
order by line, machine nulls first, period, period_start, rank
