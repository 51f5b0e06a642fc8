-- landing_classify_unique: the usual case of landing_classify.sql: no (tag, time) repeats inside the file,
-- so each point is only compared with bronze. The outcomes and references are those landing_classify.sql
-- gives when every row is the first of its (tag, time).
create temp table classified as
    select
        s.tag, s.ts, s.value, s.value_text, s.quality, s.source_line,
        case
            when e.tag is null then 'new'
            when s.value is not distinct from e.value and s.value_text is not distinct from e.value_text
                and s.quality = e.quality then 'duplicate'
            when $exported_at > e.exported_at or ($exported_at = e.exported_at and $file > e.source_file)
                then 'changed'
            else 'superseded'
        end as outcome,
        e.source_file as ref_file,
        e.source_line as ref_line,
        e.value as ref_value,
        e.value_text as ref_text,
        e.quality as ref_quality,
        e.exported_at as ref_exported_at
    from points as s
    left join existing as e on e.tag = s.tag and e.ts = s.ts
