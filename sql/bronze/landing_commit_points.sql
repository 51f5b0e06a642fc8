-- landing_commit_points: the classified points of one outcome ($outcome: new or changed) as bronze rows.
select
    cast(ts as date) as ts_date, tag, ts, value, value_text, quality,
    $source as source, $file as source_file, source_line, $exported_at as exported_at,
    $now as landed_at
from classified
where outcome = $outcome
