-- quarantine: the quarantined rows (view `quarantine`, bronze__quarantine) that match the filters, in file,
-- reason and line order, at most $limit of them, each with the size of its file-and-reason group and the
-- count of all matching rows and files. $file: a path relative to LANDING_ROOT, or a file name (NULL: every
-- file); $reason: part of the reason, in any case (NULL: every reason).
with matching as (
    select
        source_file,
        reason,
        line,
        raw,
        count(*) over (partition by source_file, reason) as group_rows,
        count(*) over () as all_rows,
        count(distinct source_file) over () as all_files
    from quarantine
    where ($file is null or source_file = $file or ends_with(source_file, '/' || $file))
      and ($reason is null or contains(lower(reason), lower($reason)))
)
select source_file, reason, line, raw, group_rows, all_rows, all_files
from matching
order by source_file, reason, line nulls last
limit $limit
