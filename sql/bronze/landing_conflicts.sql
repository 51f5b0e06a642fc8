-- landing_conflicts: the quarantine rows of points that repeat a (tag, time) with another value, in the
-- file (a conflict) or in bronze (superseded by a later export).
select
    source_line as line,
    case outcome
        when 'conflict' then 'conflicts with line ' || ref_line || ' of the same file for this tag and time'
        else 'superseded: a later export (' || ref_file || ' line ' || ref_line || ', exported '
            || strftime(ref_exported_at, '%Y-%m-%d %H:%M:%S') || ' UTC) gave this tag and time'
    end || ': value ' || coalesce(cast(value as varchar), value_text, 'NULL') || ' (' || quality
        || ') vs ' || coalesce(cast(ref_value as varchar), ref_text, 'NULL') || ' (' || ref_quality
        || ')' as reason,
    tag || ',' || cast(ts as varchar) || ',' || coalesce(cast(value as varchar), value_text, '') as raw
from classified
where outcome in ('conflict', 'superseded')
