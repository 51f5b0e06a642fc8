-- ops.quarantine_summary: the quarantined rows (view `quarantine`, bronze__quarantine) counted per file and
-- reason, with the first line that was quarantined for it as the example to look at.
select
    source,
    source_file,
    reason,
    count(*) as rows_quarantined,
    min(line) as first_line,
    max(line) as last_line,
    arg_min(raw, coalesce(line, 0)) as first_raw,
    max(quarantined_at) as last_quarantined_at
from quarantine
group by source, source_file, reason
order by source_file, reason
