-- reliability_monthly: per machine and calendar month (of production days), from reliability_daily.
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
        sum(run_time_s) as run_time_s,
        sum(failures) as failures,
        sum(failure_time_s) as failure_time_s,
        sum(run_time_s) / nullif(sum(failures), 0) as mtbf_s,
        sum(failure_time_s) / nullif(sum(failures), 0) as mttr_s
    from reliability_daily
    where cast(date_trunc('month', day) as date) in (select month from scope_months)
    group by all
)

select * from final
order by line, machine, month
