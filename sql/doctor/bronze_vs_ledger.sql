-- Per landed file (its name and export time): the points bronze holds from it against the ledger's new
-- plus changed rows. A later export that changed some of the file's points took them over, so a
-- shortfall of up to the changed rows of the later files overlapping it in time is no loss.
with expected as (
    select
        source_file, exported_at, sum(rows_new + rows_changed) as expected,
        min(min_ts) as min_ts, max(max_ts) as max_ts
    from ledger
    where status = 'landed'
    group by all
),
present as (
    select source_file, exported_at, count(*) as present from bronze group by all
),
joined as (
    select
        coalesce(e.source_file, p.source_file) as source_file,
        coalesce(e.exported_at, p.exported_at) as exported_at,
        coalesce(e.expected, 0) as expected,
        coalesce(p.present, 0) as present,
        e.min_ts,
        e.max_ts
    from expected as e
    full join present as p on p.source_file = e.source_file and p.exported_at = e.exported_at
)
select
    j.source_file,
    j.exported_at,
    j.expected,
    j.present,
    (
        select coalesce(sum(l.rows_changed), 0)
        from ledger as l
        where l.status = 'landed' and l.rows_changed > 0
            and (l.exported_at > j.exported_at or (l.exported_at = j.exported_at and l.source_file > j.source_file))
            and l.min_ts <= j.max_ts and l.max_ts >= j.min_ts
    ) as changed_later
from joined as j
where j.present <> j.expected
order by j.source_file, j.exported_at
