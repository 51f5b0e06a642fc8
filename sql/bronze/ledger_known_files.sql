-- ledger_known_files: what the ledger (view `ledger`) knows of each landed file version, oldest first. A
-- ledger written before file versions were recorded has no file_version column until its next write: the
-- union by name with an empty row gives it as null.
select file_key, file_sha256, source_file, status, size_bytes, exported_at, file_version
from (
    from ledger
    union all by name
    select null::varchar as file_version where false
)
order by landed_at, source_file
