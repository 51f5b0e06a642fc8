-- marts_audit: what must hold in the marts of the days being rebuilt before they are published.
-- One row per problem: (day, level, site, line, machine, check, detail, mart), mart naming the mart whose row
-- failed; no row: the days may be published.
-- It runs on the copy built aside (assets/marts/publish.py `publish_marts`), so a day that fails never
-- reaches analysts and the published file keeps its previous numbers.
--
-- On every machine-day (oee_daily), line- and site-day (oee_line_daily, oee_site_daily), every shift
-- occurrence of a machine or line that starts in the days (oee_shift, oee_line_shift), and every product of
-- a machine-day (oee_product_daily):
--   times_nest          run <= planned production <= scheduled, and <= calendar on machine rows (a roll-up's
--                       times are sums of machine hours; its calendar time is the day's length)
--   ratio_in_range      availability and quality in 0..1; performance in 0..$performance_tolerance; oee in
--                       0..1, or up to the row's performance where that is above 1 (oee = a x p x q <= p):
--                       a performance a little above 1 is the data-quality flag of a wrong ideal cycle time
--                       or counter, one far above it cannot be
-- On machine-days only:
--   time_not_negative   no time category below 0
--   count_not_negative  total, good and reject counts >= 0 (a roll-up's counts come from its machines)
--   seconds_add_up      outside shifts + breaks + not scheduled + run + planned stops + unplanned stops
--                       = calendar time: every second of the day in exactly one category
--   states_tile_day     the machine's silver state intervals of the day add up to its calendar time
-- On line- and site-days only:
--   rollup_equals_sum   scheduled, planned, run, ideal and fully productive times equal the sums over the
--                       machines of the line (site); a roll-up row without machine rows, or the reverse
--   output_is_output_machines
--                       the output counts of a line are its output machine's (plant__machine.is_output_machine),
--                       a site's the sum of its lines' output machines': never a sum over unlike machines
--
-- Times compare within a millisecond (sums of microsecond intervals in floating point), ratios within 1e-9.
with
machine_days as (
    select
        day, 'machine' as level, site, line, machine, 'oee_daily' as mart,
        calendar_time_s, scheduled_time_s, break_time_s, not_scheduled_time_s, planned_production_time_s,
        run_time_s, planned_stop_time_s, unplanned_stop_time_s, minor_stop_time_s, unknown_state_time_s,
        ideal_time_s, fully_productive_time_s, total_count, good_count, reject_count,
        availability, performance, quality, oee,
        calendar_time_s - scheduled_time_s as outside_shift_time_s
    from oee_daily
    where day in (select unnest($days::date[]))
),

output_machines as (
    select line, machine from plant__machine where is_output_machine
),

state_time as (
    select day, line, machine, sum(duration_s) as state_time_s
    from silver__machine_states
    where day in (select unnest($days::date[]))
    group by day, line, machine
),

machine_checked as (
    select
        m.*,
        coalesce(s.state_time_s, 0) as state_time_s,
        outside_shift_time_s + break_time_s + not_scheduled_time_s + run_time_s + planned_stop_time_s
        + unplanned_stop_time_s as category_sum_s
    from machine_days as m
    left join state_time as s on s.day = m.day and s.line = m.line and s.machine = m.machine
),

machine_sums as (
    select
        day, 'line' as level, site, line,
        sum(scheduled_time_s) as scheduled_time_s,
        sum(planned_production_time_s) as planned_production_time_s,
        sum(run_time_s) as run_time_s,
        sum(ideal_time_s) as ideal_time_s,
        sum(fully_productive_time_s) as fully_productive_time_s,
        coalesce(sum(total_count) filter (where o.machine is not null), 0) as output_total_count,
        coalesce(sum(good_count) filter (where o.machine is not null), 0) as output_good_count
    from machine_days
    left join output_machines as o using (line, machine)
    group by day, site, line
    union all
    select
        day, 'site', site, null,
        sum(scheduled_time_s),
        sum(planned_production_time_s),
        sum(run_time_s),
        sum(ideal_time_s),
        sum(fully_productive_time_s),
        coalesce(sum(total_count) filter (where o.machine is not null), 0),
        coalesce(sum(good_count) filter (where o.machine is not null), 0)
    from machine_days
    left join output_machines as o using (line, machine)
    group by day, site
),

rollup_days as (
    select
        day, 'line' as level, site, line, null::varchar as machine,
        -- a roll-up's scheduled time is a sum over its machines (machine-seconds)
        machine_scheduled_time_s as scheduled_time_s, planned_production_time_s, run_time_s, ideal_time_s,
        fully_productive_time_s, output_total_count, output_good_count, availability, performance, quality, oee
    from oee_line_daily
    where day in (select unnest($days::date[]))
    union all
    select
        day, 'site', site, null, null,
        machine_scheduled_time_s, planned_production_time_s, run_time_s, ideal_time_s, fully_productive_time_s,
        output_total_count, output_good_count, availability, performance, quality, oee
    from oee_site_daily
    where day in (select unnest($days::date[]))
),

rollup_checked as (
    select
        coalesce(r.day, s.day) as day,
        coalesce(r.level, s.level) as level,
        coalesce(r.site, s.site) as site,
        coalesce(r.line, s.line) as line,
        null::varchar as machine,
        r.* exclude (day, level, site, line, machine),
        if(coalesce(r.level, s.level) = 'line', 'oee_line_daily', 'oee_site_daily') as mart,
        r.day is not null as has_rollup,
        s.day is not null as has_machines,
        s.scheduled_time_s as sum_scheduled_time_s,
        s.planned_production_time_s as sum_planned_production_time_s,
        s.run_time_s as sum_run_time_s,
        s.ideal_time_s as sum_ideal_time_s,
        s.fully_productive_time_s as sum_fully_productive_time_s,
        s.output_total_count as machine_output_total_count,
        s.output_good_count as machine_output_good_count
    from rollup_days as r
    full join machine_sums as s
        on s.day = r.day and s.level = r.level and s.site = r.site and s.line is not distinct from r.line
),

-- every number a detail names, as text ('%.10g': 25200, 0.8880952381, -14.97)
machine_text as (
    select *, coalesce(printf('%.10g', columns('^.*(_s|_count)$')::double), 'NULL') as '\0_txt'
    from machine_checked
),

rollup_text as (
    select *, coalesce(printf('%.10g', columns('^.*(_s|_count)$')::double), 'NULL') as '\0_txt'
    from rollup_checked
),

-- shift occurrences that start in the days (oee_shift, oee_line_shift): their times nest and their ratios
-- are in range like a day's; the shift's name and start lead their details
shift_rows as (
    select
        day, 'machine' as level, site, line, machine, 'oee_shift' as mart,
        'shift ' || shift_name || ' from ' || strftime(shift_start, '%Y-%m-%d %H:%M UTC') || ': ' as shift_label,
        scheduled_time_s, planned_production_time_s, run_time_s, availability, performance, quality, oee
    from oee_shift
    where day in (select unnest($days::date[]))
    union all
    select
        day, 'line', site, line, null, 'oee_line_shift',
        'shift ' || shift_name || ' from ' || strftime(shift_start, '%Y-%m-%d %H:%M UTC') || ': ',
        machine_scheduled_time_s, planned_production_time_s, run_time_s, availability, performance, quality, oee
    from oee_line_shift
    where day in (select unnest($days::date[]))
    union all
    -- a product's share of a machine-day (oee_product_daily): its times nest and its ratios are in range
    select
        day, 'machine', site, line, machine, 'oee_product_daily', 'product ' || product || ': ',
        scheduled_time_s, planned_production_time_s, run_time_s, availability, performance, quality, oee
    from oee_product_daily
    where day in (select unnest($days::date[]))
),

shift_text as (
    select *, coalesce(printf('%.10g', columns('^.*_s$')::double), 'NULL') as '\0_txt'
    from shift_rows
),

-- the checks every level shares
bounded as (
    select
        day, level, site, line, machine, mart, '' as shift_label,
        scheduled_time_s, planned_production_time_s, run_time_s,
        scheduled_time_s_txt, planned_production_time_s_txt, run_time_s_txt,
        availability, performance, quality, oee
    from machine_text
    union all
    select
        day, level, site, line, machine, mart, '' as shift_label,
        scheduled_time_s, planned_production_time_s, run_time_s,
        scheduled_time_s_txt, planned_production_time_s_txt, run_time_s_txt,
        availability, performance, quality, oee
    from rollup_text
    where has_rollup
    union all
    select
        day, level, site, line, machine, mart, shift_label,
        scheduled_time_s, planned_production_time_s, run_time_s,
        scheduled_time_s_txt, planned_production_time_s_txt, run_time_s_txt,
        availability, performance, quality, oee
    from shift_text
),

bounded_problems as (
    select day, level, site, line, machine, mart, unnest([
        case when run_time_s > planned_production_time_s + 1e-3 then {
            'check': 'times_nest',
            'detail': shift_label || 'run_time_s ' || run_time_s_txt || ' > planned_production_time_s '
            || planned_production_time_s_txt} end,
        case when planned_production_time_s > scheduled_time_s + 1e-3 then {
            'check': 'times_nest',
            'detail': shift_label || 'planned_production_time_s ' || planned_production_time_s_txt || ' > scheduled_time_s '
            || scheduled_time_s_txt} end,
        case when availability not between 0 and 1 + 1e-9 then {
            'check': 'ratio_in_range', 'detail': shift_label || 'availability ' || printf('%.10g', availability) || ' outside 0..1'
        } end,
        case when quality not between 0 and 1 + 1e-9 then {
            'check': 'ratio_in_range', 'detail': shift_label || 'quality ' || printf('%.10g', quality) || ' outside 0..1'} end,
        case when performance not between 0 and $performance_tolerance then {
            'check': 'ratio_in_range',
            'detail': shift_label || 'performance ' || printf('%.10g', performance) || ' outside 0..'
            || printf('%.10g', $performance_tolerance::double)} end,
        case when oee < 0 or oee > greatest(1, coalesce(performance, 1)) + 1e-9 then {
            'check': 'ratio_in_range',
            'detail': shift_label || 'oee ' || printf('%.10g', oee) || ' outside 0..1'
            || coalesce(' (performance ' || printf('%.10g', performance) || ')', '')} end
    ]) as problem
    from bounded
),

machine_problems as (
    select day, level, site, line, machine, mart, unnest([
        case when scheduled_time_s > calendar_time_s + 1e-3 then {
            'check': 'times_nest',
            'detail': 'scheduled_time_s ' || scheduled_time_s_txt || ' > calendar_time_s ' || calendar_time_s_txt
        } end,
        case when least(break_time_s, not_scheduled_time_s, run_time_s, planned_stop_time_s, unplanned_stop_time_s,
                minor_stop_time_s, unknown_state_time_s) < -1e-3 then {
            'check': 'time_not_negative',
            'detail': 'break_time_s ' || break_time_s_txt || ', not_scheduled_time_s ' || not_scheduled_time_s_txt
            || ', run_time_s ' || run_time_s_txt || ', planned_stop_time_s ' || planned_stop_time_s_txt
            || ', unplanned_stop_time_s ' || unplanned_stop_time_s_txt || ', minor_stop_time_s '
            || minor_stop_time_s_txt || ', unknown_state_time_s ' || unknown_state_time_s_txt} end,
        case when least(total_count, good_count, reject_count) < 0 then {
            'check': 'count_not_negative',
            'detail': 'total_count ' || total_count_txt || ', good_count ' || good_count_txt || ', reject_count '
            || reject_count_txt} end,
        case when abs(category_sum_s - calendar_time_s) > 1e-3 then {
            'check': 'seconds_add_up',
            'detail': 'outside shifts ' || outside_shift_time_s_txt || ' + breaks ' || break_time_s_txt
            || ' + not scheduled ' || not_scheduled_time_s_txt || ' + run ' || run_time_s_txt
            || ' + planned stops ' || planned_stop_time_s_txt || ' + unplanned stops ' || unplanned_stop_time_s_txt
            || ' = ' || category_sum_s_txt || ' != calendar_time_s ' || calendar_time_s_txt} end,
        case when abs(state_time_s - calendar_time_s) > 1e-3 then {
            'check': 'states_tile_day',
            'detail': 'machine states ' || state_time_s_txt || ' s != calendar_time_s ' || calendar_time_s_txt} end
    ]) as problem
    from machine_text
),

rollup_problems as (
    select day, level, site, line, machine, mart, unnest([
        case when not has_machines then {'check': 'rollup_equals_sum', 'detail': 'no machine rows'} end,
        case when not has_rollup then {'check': 'rollup_equals_sum', 'detail': 'no ' || level || ' row'} end,
        case when abs(scheduled_time_s - sum_scheduled_time_s) > 1e-3 then {
            'check': 'rollup_equals_sum',
            'detail': 'scheduled_time_s ' || scheduled_time_s_txt || ' != sum over machines '
            || sum_scheduled_time_s_txt} end,
        case when abs(planned_production_time_s - sum_planned_production_time_s) > 1e-3 then {
            'check': 'rollup_equals_sum',
            'detail': 'planned_production_time_s ' || planned_production_time_s_txt || ' != sum over machines '
            || sum_planned_production_time_s_txt} end,
        case when abs(run_time_s - sum_run_time_s) > 1e-3 then {
            'check': 'rollup_equals_sum',
            'detail': 'run_time_s ' || run_time_s_txt || ' != sum over machines ' || sum_run_time_s_txt} end,
        case when abs(ideal_time_s - sum_ideal_time_s) > 1e-3 then {
            'check': 'rollup_equals_sum',
            'detail': 'ideal_time_s ' || ideal_time_s_txt || ' != sum over machines ' || sum_ideal_time_s_txt} end,
        case when abs(fully_productive_time_s - sum_fully_productive_time_s) > 1e-3 then {
            'check': 'rollup_equals_sum',
            'detail': 'fully_productive_time_s ' || fully_productive_time_s_txt || ' != sum over machines '
            || sum_fully_productive_time_s_txt} end,
        case when has_rollup and has_machines and output_total_count <> machine_output_total_count then {
            'check': 'output_is_output_machines',
            'detail': 'output_total_count ' || output_total_count_txt || ' != total_count of the output machine(s) '
            || machine_output_total_count_txt} end,
        case when has_rollup and has_machines and output_good_count <> machine_output_good_count then {
            'check': 'output_is_output_machines',
            'detail': 'output_good_count ' || output_good_count_txt || ' != good_count of the output machine(s) '
            || machine_output_good_count_txt} end
    ]) as problem
    from rollup_text
),

problems as (
    select * from bounded_problems
    union all
    select * from machine_problems
    union all
    select * from rollup_problems
),

final as (
    select day, level, site, line, machine, problem.check as "check", problem.detail as detail, mart
    from problems
    where problem is not null
)

-- machines before their line and site, and on each the checks that find causes before those that show effects
select * from final
order by
    day,
    list_position(['machine', 'line', 'site'], level),
    site,
    line,
    machine,
    list_position(
        ['times_nest', 'seconds_add_up', 'states_tile_day', 'time_not_negative', 'count_not_negative',
            'rollup_equals_sum', 'output_is_output_machines', 'ratio_in_range'],
        "check"
    ),
    detail
