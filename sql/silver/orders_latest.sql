-- orders_latest: the work orders in the points read (`points`), each in its latest exported version, one
-- row per OEE machine it runs on (`machines`): a line's order (machine NULL) runs on each of the line's.
--
-- An orders export lands each order as one point of the tag `order:<order_id>` at its planned start, its
-- fields as JSON in value_text (assets/readers/orders_csv.py). A later export of the same order replaces
-- the earlier one; one that moved the planned start is a second point, so the latest export wins here.
with
orders_raw as (
    select
        json_extract_string(value_text, '$.order_id') as order_id,
        json_extract_string(value_text, '$.product') as product,
        json_extract_string(value_text, '$.line') as line,
        json_extract_string(value_text, '$.machine') as machine,
        value as planned_qty,
        cast(json_extract_string(value_text, '$.planned_start') as timestamptz) as planned_start,
        cast(json_extract_string(value_text, '$.planned_end') as timestamptz) as planned_end,
        cast(json_extract_string(value_text, '$.actual_start') as timestamptz) as actual_start,
        cast(json_extract_string(value_text, '$.actual_end') as timestamptz) as actual_end,
        source_file,
        exported_at,
        ts
    from points
    where starts_with(tag, $order_prefix) and quality <> 'bad' and value_text is not null
),

latest as (
    select * from orders_raw
    qualify row_number() over (partition by order_id order by exported_at desc, ts desc) = 1
)

select
    o.order_id,
    o.product,
    m.line,
    m.machine,
    o.planned_qty,
    o.machine is null as whole_line,
    o.planned_start,
    o.planned_end,
    o.actual_start,
    o.actual_end,
    o.source_file,
    o.exported_at
from latest as o
join machines as m on m.line = o.line and (o.machine is null or o.machine = m.machine)
