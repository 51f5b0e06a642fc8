-- rows_raw: the quarantine's raw text of staged rows that bring none of their own (view `needed`: the
-- rejected rows only), their fields joined by commas.
select coalesce(raw, concat_ws(',', tag, ts_text, cast(ts_num as varchar), value_str, cast(value_num as varchar)))
from needed
