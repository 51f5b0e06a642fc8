-- reliability_monthly: per machine and calendar month (of production days), from reliability_daily.
-- Sums add in day order: days published in any order give bit-identical rows.
with
scope_months as (
    select distinct cast(date_trunc('month', d) as date) as month from (select unnest($days::date[]) as d)
),

final as (
    select
        site,
        area,
        line,
        machine,
        cast(date_trunc('month', day) as date) as month,
        count(*) as days,
        sum(run_time_s order by day) as run_time_s,
        sum(failures order by day) as failures,
        sum(failure_time_s order by day) as failure_time_s,
        sum(run_time_s order by day) / nullif(sum(failures order by day), 0) as mtbf_s,
        sum(failure_time_s order by day) / nullif(sum(failures order by day), 0) as mttr_s
    from reliability_daily
    where cast(date_trunc('month', day) as date) in (select month from scope_months)
    group by all
)

select * from final
order by line, machine, month
