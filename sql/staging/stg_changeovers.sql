-- stg_changeovers: one row per product change of a machine, whole across breaks and midnight.
-- A product change is a run of one product followed by a run of another (the product tag changed, or the
-- next order makes another product). Time on product 'unknown' that nothing named (a bad product reading,
-- no tag and no order) is skipped: a gap between two runs of one product is no change, and a change
-- across such a gap is one changeover. A product value outside the catalog is a product ('unknown') here.
-- The changeover starts at the last count of the old product (its run's end where it counted nothing) and
-- ends at the first count of the new one (changeovers.until: count), or with until: rate at the first
-- count reading t at least a minute after the change whose readings in (t - 60 s, t] counted at least
-- rate_fraction x 60 s / the new product's ideal cycle time. A new run that ends before that ends its
-- changeover; one still running leaves `end` NULL (seen_until: the machine's last state seen).
-- A count is one of the machine's units: its total counter, else good + reject.
with
runs as (
    -- a later day may know where a run ended
    select line, machine, run_start, max(run_end) as run_end, product
    from silver__production_runs
    where not (product = 'unknown' and product_value is null)
    group by line, machine, run_start, product, order_id
),

changes as (
    select *
    from (
        select
            line,
            machine,
            lag(product) over w as from_product,
            product as to_product,
            lag(run_start) over w as from_run_start,
            coalesce(lag(run_end) over w, run_start) as from_run_end,
            run_start as change_at,
            run_end as to_run_end
        from runs
        window w as (partition by line, machine order by run_start)
    )
    where from_product is not null and from_product <> to_product
),

units as (
    select c.line, c.machine, c.ts, sum(c.increment) as units
    from silver__count_increments as c
    join plant__machine as m on m.line = c.line and m.machine = c.machine
    where case when m.has_total then c.kind = 'total' else c.kind in ('good', 'reject') end
    group by c.line, c.machine, c.ts
    having sum(c.increment) > 0
),

-- until: rate only: each reading at least a minute into a new run, with the units counted in the minute up
-- to it, (ts - 60 s, ts], against the new product's ideal units per minute at rate_fraction
at_rate as (
    select ch.line, ch.machine, ch.change_at, u.ts
    from changes as ch
    cross join plant__changeover_rule as r
    join plant__product as p on p.line = ch.line and p.machine = ch.machine and p.product = ch.to_product
    join units as u
        on u.line = ch.line and u.machine = ch.machine and u.ts >= ch.change_at + interval 60 second
            and (ch.to_run_end is null or u.ts <= ch.to_run_end)
    join units as v
        on v.line = u.line and v.machine = u.machine and v.ts > u.ts - interval 60 second and v.ts <= u.ts
    where r.until = 'rate'
    group by ch.line, ch.machine, ch.change_at, u.ts, r.rate_fraction, p.ideal_cycle_time_s
    having sum(v.units) >= r.rate_fraction * 60 / p.ideal_cycle_time_s
),

started as (
    select
        ch.*,
        coalesce(
            (
                select max(u.ts) from units as u
                where u.line = ch.line and u.machine = ch.machine
                    and u.ts > ch.from_run_start and u.ts <= ch.from_run_end
            ),
            ch.from_run_end
        ) as start,
        (
            select min(u.ts) from units as u
            where u.line = ch.line and u.machine = ch.machine
                and u.ts > ch.change_at and (ch.to_run_end is null or u.ts <= ch.to_run_end)
        ) as first_count_at,
        (
            select min(a.ts) from at_rate as a
            where a.line = ch.line and a.machine = ch.machine and a.change_at = ch.change_at
        ) as at_rate_at
    from changes as ch
),

seen as (
    select line, machine, max("end") as seen_until
    from silver__machine_states
    group by line, machine
)

select
    s.line,
    s.machine,
    s.from_product,
    s.to_product,
    s.change_at,
    s.start,
    coalesce(
        case when r.until = 'rate' then s.at_rate_at else s.first_count_at end,
        s.to_run_end
    ) as "end",
    greatest(coalesce(v.seen_until, s.start), s.start) as seen_until,
    coalesce(t.target_s, r.default_target_s) as target_s
from started as s
cross join plant__changeover_rule as r
left join seen as v on v.line = s.line and v.machine = s.machine
left join plant__changeover_target as t on t.from_product = s.from_product and t.to_product = s.to_product
