-- line_oee: OEE per line over the production days $days, for the table the CLI prints after a run.
-- The days' times are summed and the ratios (sql/staging/oee_ratios.sql) taken from the sums: averaging
-- the days' percentages would weigh a day that ran ten minutes like one that ran all day. Good units are
-- the line's output machine's (a filler's bottles and a packer's packs do not add up).
select
    line,
    count(distinct day) as days,
    sum(planned_production_time_s) / 3600 as planned_h,
    availability(sum(run_time_s), sum(planned_production_time_s)) as availability,
    performance(sum(ideal_time_s), sum(run_time_s)) as performance,
    quality(sum(fully_productive_time_s), sum(ideal_time_s)) as quality,
    oee(sum(fully_productive_time_s), sum(planned_production_time_s)) as oee,
    sum(output_good_count) as good_units
from oee_line_daily
where day in (select unnest($days::date[]))
group by line
order by line
