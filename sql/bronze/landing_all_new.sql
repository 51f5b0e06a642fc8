-- landing_all_new: a file without repeats on days bronze holds nothing of: every point is new, classified
-- where it is staged (the columns of landing_classify.sql).
create temp view classified as
select
    tag, ts, value, value_text, quality, source_line, 'new' as outcome, null::varchar as ref_file,
    null::bigint as ref_line, null::double as ref_value, null::varchar as ref_text, null::varchar as ref_quality,
    null::timestamptz as ref_exported_at
from points
