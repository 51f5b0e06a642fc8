-- data_quality_daily: per tag and production day: points, share of bad and uncertain points, the
-- longest gap between points (day edges included), the share of the day with a valid value in
-- force, and whether an OEE or energy number rests on the tag (the machine and role it serves).
-- For an energy tag, the seconds of the day whose energy is unknown and those covered by a meter step
-- spread over a gap, read from silver__energy_increments (the rule is in sql/silver/energy_increments.sql).
-- On a counter tag's rows: the resets, wraps and back-steps (jitter) the counter made and its bad
-- readings (negative, fractional or text), each in the day whose window the reading closes; NULL on
-- other tags.
-- On a machine's state tag's row: the run time of the day on product 'unknown' (no product tag value,
-- order or catalog id told what ran; its counts are at the machine's own ideal cycle time).
with unknown_product as (
    select day, line, machine, coalesce(sum(seconds) filter (where product = 'unknown'), 0) as unknown_product_run_s
    from stg_states_by_product
    where (category = 'running' or is_minor_stop) and day in (select unnest($days::date[]))
    group by day, line, machine
),

energy_gaps as (
    select
        day,
        tag,
        coalesce(sum(epoch_us("end") - epoch_us(start)) filter (where event = 'unknown'), 0) / 1e6
            as energy_unknown_s,
        coalesce(sum(epoch_us("end") - epoch_us(start)) filter (where spread), 0) / 1e6 as energy_spread_s,
        max(max_gap_s) as energy_max_gap_s
    from silver__energy_increments
    where day in (select unnest($days::date[]))
    group by day, tag
)
select
    q.tag,
    q.source,
    q.day,
    q.points,
    q.bad_points / nullif(q.points, 0) as bad_share,
    q.uncertain_points / nullif(q.points, 0) as uncertain_share,
    q.longest_gap_s,
    q.covered_s / nullif(q.day_s, 0) as coverage,
    t.tag is not null as used_in_oee,
    t.line,
    t.machine,
    t.role,
    e.energy_unknown_s,
    e.energy_spread_s,
    e.energy_max_gap_s,
    case when t.role like '%_count' then coalesce(c.counter_resets, 0) end as counter_resets,
    case when t.role like '%_count' then coalesce(c.counter_wraps, 0) end as counter_wraps,
    case when t.role like '%_count' then coalesce(c.counter_backsteps, 0) end as counter_backsteps,
    case when t.role like '%_count' then coalesce(c.bad_counter_readings, 0) end as bad_counter_readings,
    case when t.role = 'state' then coalesce(u.unknown_product_run_s, 0) end as unknown_product_run_s
from silver__tag_quality as q
left join plant__tag as t on t.tag = q.tag
left join energy_gaps as e on e.day = q.day and e.tag = q.tag
left join (
    select
        tag,
        day,
        count(*) filter (where event = 'reset') as counter_resets,
        count(*) filter (where event = 'rollover') as counter_wraps,
        count(*) filter (where event = 'backstep') as counter_backsteps,
        count(*) filter (where event = 'bad') as bad_counter_readings
    from silver__count_increments
    group by tag, day
) as c on c.tag = q.tag and c.day = q.day
left join unknown_product as u on u.day = q.day and u.line = t.line and u.machine = t.machine and t.role = 'state'
where q.day in (select unnest($days::date[]))
order by q.tag, q.day
