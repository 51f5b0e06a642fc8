-- downtime_pareto: per line (machine NULL) and per machine, per production day and per ISO week
-- (period_start = its Monday): seconds and events per reason, ranked, with share and cumulative share.
-- Built from downtime_events, so a stop counts once, in the day and week in which it starts.
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
        duration_s
    from downtime_events
),

by_period as (
    select site, area, line, machine, 'day' as period, day as period_start, reason, category,
           sum(duration_s) as seconds, count(*) as events
    from events
    where day in (select day from scope_days)
    group by all
    union all
    select site, area, line, null as machine, 'day', day, reason, category, sum(duration_s), count(*)
    from events
    where day in (select day from scope_days)
    group by all
    union all
    select site, area, line, machine, 'week', week, reason, category, sum(duration_s), count(*)
    from events
    where week in (select week from scope_weeks)
    group by all
    union all
    select site, area, line, null, 'week', week, reason, category, sum(duration_s), count(*)
    from events
    where week in (select week from scope_weeks)
    group by all
),

ranked as (
    select
        *,
        seconds / nullif(sum(seconds) over w, 0) as share,
        sum(seconds) over (w order by seconds desc, reason rows unbounded preceding)
            / nullif(sum(seconds) over w, 0) as cumulative_share,
        row_number() over (w order by seconds desc, reason) as rank
    from by_period
    window w as (partition by site, area, line, machine, period, period_start)
)

select * from ranked
order by line, machine nulls first, period, period_start, rank
