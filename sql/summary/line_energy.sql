-- line_energy: kWh per line over the production days $days, for the table the CLI prints after a run.
-- Every line with an energy figure, monitoring assets' lines included: a sensor-only plant has energy, no OEE.
select
    line,
    count(distinct day) as days,
    sum(kwh_total) as kwh,
    sum(kwh_outside_scheduled) as kwh_outside,
    count(*) filter (where not data_quality_ok) as flagged_days
from energy_daily
where level = 'line' and day in (select unnest($days::date[]))
group by line
order by line
