-- landing_classify: each staged point (view `points`) as new, duplicate, changed, superseded or a conflict,
-- against the file's other rows and bronze's points of its days (view `existing`), with the point it was
-- compared with. For a file with (tag, time) repeats: rows are ranked by line within their (tag, time), the
-- first of each is the reference of the others. Only rows whose (tag, time) hash repeats (`repeat_keys`)
-- are ranked; any other row is the only one of its (tag, time), first by itself.
-- $file: the file's path in the landing folder; $exported_at: when it was exported.
create temp table classified as
    with points as (
        select *, hash(tag, ts) in (select h from repeat_keys) as maybe_repeated from points
    ),
    ranked as (
        select
            tag, ts, value, value_text, quality, source_line,
            row_number() over (partition by tag, ts order by source_line) as rn
        from points
        where maybe_repeated
    ),
    staged as (
        select tag, ts, value, value_text, quality, source_line, 1 as rn from points where not maybe_repeated
        union all
        select * from ranked
    ),
    firsts as (
        select tag, ts, value, value_text, quality, source_line from ranked where rn = 1
    ),
    final as (
        select
            s.tag, s.ts, s.value, s.value_text, s.quality, s.source_line,
            case
                -- a repeated row in the same file: identical is a duplicate, different is a conflict
                when s.rn > 1 and s.value is not distinct from f.value
                    and s.value_text is not distinct from f.value_text and s.quality = f.quality then 'duplicate'
                when s.rn > 1 then 'conflict'
                when e.tag is null then 'new'
                when s.value is not distinct from e.value and s.value_text is not distinct from e.value_text
                    and s.quality = e.quality then 'duplicate'
                -- a different value for a landed point: the later export wins, whatever the arrival order
                when $exported_at > e.exported_at or ($exported_at = e.exported_at and $file > e.source_file)
                    then 'changed'
                else 'superseded'
            end as outcome,
            case when s.rn > 1 then $file else e.source_file end as ref_file,
            case when s.rn > 1 then f.source_line else e.source_line end as ref_line,
            case when s.rn > 1 then f.value else e.value end as ref_value,
            case when s.rn > 1 then f.value_text else e.value_text end as ref_text,
            case when s.rn > 1 then f.quality else e.quality end as ref_quality,
            e.exported_at as ref_exported_at
        from staged as s
        left join firsts as f on f.tag = s.tag and f.ts = s.ts
        left join existing as e on e.tag = s.tag and e.ts = s.ts
    )
    select * from final
