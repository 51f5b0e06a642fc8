-- stg_energy_by_state: each energy segment split over the machine states it overlaps, then over the
-- shift and planned-production windows, assuming a uniform rate within the segment.
-- A monitoring asset (no state tag, no counters: plant__asset.has_oee false) has no states: its segments
-- are pieces of their own, with category and is_minor_stop NULL (unknown), split by the calendar alone.
with pieces as (
    select
        e.day,
        e.line,
        e.machine,
        s.category,
        s.is_minor_stop,
        greatest(e.start, s.start) as start,
        least(e."end", s."end") as "end",
        e.kwh * (epoch_us(least(e."end", s."end")) - epoch_us(greatest(e.start, s.start)))
            / (epoch_us(e."end") - epoch_us(e.start)) as kwh
    from silver__energy_increments as e
    join stg_machine_states as s
        on s.day = e.day and s.line = e.line and s.machine = e.machine
        and s.start < e."end" and s."end" > e.start
    union all
    select
        e.day,
        e.line,
        e.machine,
        null::varchar as category,
        null::boolean as is_minor_stop,
        e.start,
        e."end",
        e.kwh
    from silver__energy_increments as e
    join plant__asset as a on a.line = e.line and a.machine = e.machine and not a.has_oee
),

windows as (
    select day, kind, shift_name, shift_start, shift_end, start, "end"
    from silver__plant_calendar
    where kind in ('shift', 'planned')
),

in_windows as (
    select
        p.day,
        p.line,
        p.machine,
        p.category,
        p.is_minor_stop,
        w.kind,
        w.shift_name,
        w.shift_start,
        w.shift_end,
        p.kwh * (epoch_us(least(p."end", w."end")) - epoch_us(greatest(p.start, w.start)))
            / (epoch_us(p."end") - epoch_us(p.start)) as kwh
    from pieces as p
    join windows as w
        on w.day = p.day and w.start < p."end" and w."end" > p.start
    where p."end" > p.start
)

-- one row per piece outside any shift, and per piece share inside each shift / planned window
select day, line, machine, category, is_minor_stop, 'all' as kind, null as shift_name,
       null::timestamptz as shift_start, null::timestamptz as shift_end, kwh
from pieces
where "end" > start
union all
select day, line, machine, category, is_minor_stop, kind, shift_name, shift_start, shift_end, kwh
from in_windows
