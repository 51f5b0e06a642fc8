-- production_runs: which product each OEE machine made when, as intervals that tile the production day.
--
-- The product at an instant comes from, in this order:
--   1. the machine's product tag (`product_tags`), whose value holds until the tag's next point, like a
--      state. A good value that is a catalog id (text, or a number equal to a numeric id: 33 is "033") is
--      that product; any other value, or a bad point, is the product 'unknown' (the value kept in
--      product_value, so an id missing from the catalog is seen, never dropped);
--   2. for a machine without a product tag, the order that covers the instant: its actual window
--      (actual_start until actual_end, open while the order runs) or, before it has started, its planned
--      window. Where two orders cover an instant, the one that started last;
--   3. else 'unknown'.
-- The order is named wherever one covers the instant, whichever gave the product.
--
-- Orders come from `orders_latest` (sql/silver/orders_latest.sql): each order's latest export, per machine.
--
-- Runs are found over the whole span read ($span_start, before the day, to $span_end, after it) and then
-- clipped to the day, so a run across midnight keeps its whole extent (run_start, run_end; run_end NULL
-- while nothing later ends it).
with
order_windows as (
    select
        o.order_id,
        o.product,
        o.line,
        o.machine,
        coalesce(o.actual_start, o.planned_start) as start,
        case when o.actual_start is not null then coalesce(o.actual_end, 'infinity'::timestamptz)
            else o.planned_end end as "end"
    from orders_latest as o
),

tag_points as (
    select
        t.line,
        t.machine,
        p.ts,
        case
            when p.quality = 'bad' then null
            when p.value is not null and p.value = floor(p.value) and abs(p.value) < 1e15
                then cast(cast(p.value as bigint) as varchar)
            when p.value is not null then cast(p.value as varchar)
            else nullif(trim(p.value_text), '')
        end as tag_value,
        p.quality = 'bad' as is_bad,
        p.value
    from points as p
    join product_tags as t on t.tag = p.tag
),

tag_products as (
    select
        tp.*,
        coalesce(
            (select min(c.id) from catalog as c where c.id = tp.tag_value),
            (select min(c.id) from catalog as c where tp.value is not null and try_cast(c.id as double) = tp.value)
        ) as catalog_id
    from tag_points as tp
),

-- every instant a machine's product or order may change, and the span's edges
edges as (
    select line, machine, $span_start::timestamptz as ts from machines
    union
    select line, machine, $span_end::timestamptz from machines
    union
    select line, machine, ts from tag_products where ts > $span_start and ts < $span_end
    union
    select line, machine, start from order_windows where start > $span_start and start < $span_end
    union
    select line, machine, "end" from order_windows where "end" > $span_start and "end" < $span_end
),

pieces as (
    select line, machine, ts as start, lead(ts) over (partition by line, machine order by ts) as "end"
    from edges
),

attributed as (
    select
        p.line,
        p.machine,
        p.start,
        p."end",
        t.tag is not null as has_tag,
        -- one struct, never NULL: arg_max skips a NULL value, which would carry the previous product
        -- over a bad point or an unknown value
        (
            select arg_max({'id': tp.catalog_id, 'value': tp.tag_value}, tp.ts) from tag_products as tp
            where tp.line = p.line and tp.machine = p.machine and tp.ts <= p.start
        ) as tag_point,
        (
            select arg_max(ow.order_id, ow.start) from order_windows as ow
            where ow.line = p.line and ow.machine = p.machine and ow.start <= p.start and ow."end" > p.start
        ) as order_id
    from pieces as p
    left join product_tags as t on t.line = p.line and t.machine = p.machine
    where p."end" is not null
),

labelled as (
    select
        a.line,
        a.machine,
        a.start,
        a."end",
        a.order_id,
        case
            when a.has_tag then coalesce(a.tag_point.id, $unknown)
            when o.product is not null then o.product
            else $unknown
        end as product,
        case when a.has_tag and a.tag_point.id is null then a.tag_point.value end as product_value,
        case when a.has_tag then 'tag' when o.product is not null then 'order' else 'unknown' end as source
    from attributed as a
    left join (select distinct order_id, product from orders_latest) as o on o.order_id = a.order_id
),

marked as (
    select
        *,
        case
            when product = lag(product) over w
                and product_value is not distinct from lag(product_value) over w
                and order_id is not distinct from lag(order_id) over w
                and source = lag(source) over w
            then 0 else 1
        end as is_new
    from labelled
    window w as (partition by line, machine order by start)
),

grouped as (
    select *, sum(is_new) over (partition by line, machine order by start rows unbounded preceding) as run_id
    from marked
),

runs as (
    select
        line,
        machine,
        product,
        product_value,
        order_id,
        source,
        min(start) as run_start,
        max("end") as last_end
    from grouped
    group by line, machine, run_id, product, product_value, order_id, source
)

select
    $day as day,
    line,
    machine,
    greatest(run_start, $day_start) as start,
    least(last_end, $day_end) as "end",
    (epoch_us(least(last_end, $day_end)) - epoch_us(greatest(run_start, $day_start))) / 1e6 as duration_s,
    product,
    product_value,
    order_id,
    source,
    run_start,
    case when last_end >= $span_end then null else last_end end as run_end
from runs
where run_start < $day_end and last_end > $day_start
order by line, machine, start
