-- Per file key: the quarantined rows the ledger counts against the rows quarantine holds.
with held as (
    select file_key, any_value(source_file) as source_file, count(*) as held from quarantine group by all
)
select
    coalesce(l.source_file, h.source_file) as source_file,
    coalesce(l.file_key, h.file_key) as file_key,
    l.file_key is not null as in_ledger,
    coalesce(l.rows_quarantined, 0) as counted,
    coalesce(h.held, 0) as held
from ledger as l
full join held as h on h.file_key = l.file_key
where coalesce(l.rows_quarantined, 0) <> coalesce(h.held, 0)
order by 1, 2
