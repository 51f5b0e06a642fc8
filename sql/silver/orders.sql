-- orders: the work orders (`orders_latest`) whose window touches the production day: the actual window
-- (open while the order runs) or, before it has started, the planned one. An order across midnight is
-- in both days; the marts keep its row of the latest day.
select $day as day, *
from orders_latest
where coalesce(actual_start, planned_start) < $day_end
    and (case when actual_start is not null then coalesce(actual_end, 'infinity'::timestamptz)
        else planned_end end) > $day_start
order by order_id, line, machine
