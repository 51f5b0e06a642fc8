-- stg_machine_states: silver__machine_states as the marts read it, with every stop inside a changeover
-- (stg_changeovers) a planned stop of reason 'changeover': a setup loss, never a failure. The state code
-- the historian gave stays. A stop piece is cut at the changeover's edges; the part inside is one event
-- per stop and changeover (event_start/event_end clipped to the changeover, so a changeover across a
-- break or midnight stays one event), the parts outside stay the stop they were, clipped likewise.
-- Time without a valid state (reason 'unknown') stays a data gap, and running stays running.
-- Whether the time lies in planned production time, a break or outside the shifts is the marts' split.
with
spans as (
    select line, machine, start as co_start, coalesce("end", 'infinity'::timestamptz) as co_end
    from stg_changeovers
    where coalesce("end", 'infinity'::timestamptz) > start
),

-- Changeovers that overlap (a product that never counted before the next change, or neighbouring days
-- whose silver was built under different plant YAMLs) are merged into one span: a stop second inside two
-- of them is still one second, never two.
ordered as (
    select
        *,
        max(co_end) over (
            partition by line, machine order by co_start, co_end rows between unbounded preceding and 1 preceding
        ) as before_end
    from spans
),

islands as (
    select
        *,
        sum(case when before_end is null or co_start > before_end then 1 else 0 end) over (
            partition by line, machine order by co_start, co_end rows unbounded preceding
        ) as island
    from ordered
),

changeovers as (
    select line, machine, min(co_start) as co_start, max(co_end) as co_end
    from islands
    group by line, machine, island
),

stops as (
    select s.*
    from silver__machine_states as s
    where s.category in ('planned_stop', 'unplanned_stop') and s.reason is distinct from 'unknown'
        and exists (
            select 1 from changeovers as c
            where c.line = s.line and c.machine = s.machine and c.co_start < s."end" and c.co_end > s.start
        )
),

-- where each such stop piece is cut: its start and every changeover edge inside it
cuts as (
    select line, machine, start as piece_start, start as at from stops
    union
    select s.line, s.machine, s.start, e.at
    from stops as s
    join (
        select line, machine, co_start as at from changeovers
        union
        select line, machine, co_end from changeovers
    ) as e
        on e.line = s.line and e.machine = s.machine and e.at > s.start and e.at < s."end"
),

segments as (
    select
        s.* exclude (start, "end", duration_s),
        c.at as start,
        coalesce(lead(c.at) over (partition by c.line, c.machine, c.piece_start order by c.at), s."end") as "end"
    from cuts as c
    join stops as s on s.line = c.line and s.machine = c.machine and s.start = c.piece_start
),

classified as (
    select
        g.*,
        co.co_start,
        co.co_end,
        -- a part outside every changeover reaches back to the last changeover that ended within its stop,
        -- forward to the next that starts within it
        (
            select max(c.co_end) from changeovers as c
            where c.line = g.line and c.machine = g.machine and c.co_end <= g.start and c.co_end > g.event_start
        ) as after_changeover,
        (
            select min(c.co_start) from changeovers as c
            where c.line = g.line and c.machine = g.machine and c.co_start >= g."end"
                and (g.event_end is null or c.co_start < g.event_end)
        ) as before_changeover
    from segments as g
    left join changeovers as co
        on co.line = g.line and co.machine = g.machine and co.co_start <= g.start and co.co_end >= g."end"
)

select *
from silver__machine_states as s
where not exists (
    select 1 from stops as t where t.line = s.line and t.machine = s.machine and t.start = s.start
)
union all by name
select
    day,
    line,
    machine,
    start,
    "end",
    (epoch_us("end") - epoch_us(start)) / 1e6 as duration_s,
    case when co_start is not null then 'planned_stop' else category end as category,
    case when co_start is not null then 'changeover' else reason end as reason,
    state_code,
    case when co_start is not null then greatest(event_start, co_start)
        else greatest(event_start, coalesce(after_changeover, event_start)) end as event_start,
    case when co_start is not null then nullif(least(coalesce(event_end, 'infinity'::timestamptz), co_end), 'infinity'::timestamptz)
        else coalesce(before_changeover, event_end) end as event_end,
    case when co_start is not null then false else is_minor_stop end as is_minor_stop
from classified
