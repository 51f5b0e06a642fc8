-- row_rules: the rules that decide, row by row, whether a historian row lands as a point or is quarantined,
-- and with which reason. They are written once, here, as DuckDB macros, and called by every reader: the
-- streaming readers' SQL over their Arrow batches (sql/bronze/rows_*.sql) and the AVEVA whole-file stager
-- (sql/bronze/aveva_file_stage.sql). A macro is expanded where it is called, so it costs nothing at run
-- time. Macros take no bind parameters: the statements that call them pass their `$` parameters in.
--
-- Checked in this order, the first reason wins: the reader's own reason (a line it could not split, a
-- quality code it does not know), then tag, then time, then value.

-- SQL's trim() of spaces, copying only the few fields that have any (the whole-file stager's fields).
create or replace temp macro bronze_strip(x) as
    case when prefix(x, ' ') or suffix(x, ' ') then trim(x) else x end;

-- ---- tag ----------------------------------------------------------------------------------------------

-- Why a tag is not one: empty, longer than 256 characters or holding a control character (`tag_control`,
-- tested once per distinct tag in Python). `tag_label` is the format's name of the column.
create or replace temp macro bronze_tag_reason(tag, tag_control, tag_label) as
    case
        when tag is null or tag = '' then tag_label || ' is empty'
        when length(tag) > 256 then tag_label || ' is longer than 256 characters'
        when tag_control then tag_label || ' contains control characters'
    end;

-- ---- time (see assets/plant/timestamps.py for what is read how, and why never guessed) ----------------

-- Whether a trimmed text `t` has the ISO 8601 form (`iso_pattern`: timestamps.ISO_8601_PATTERN).
create or replace temp macro bronze_iso_form(t, iso_pattern) as
    coalesce(regexp_full_match(t, iso_pattern), false);

-- Whether an ISO text carries an offset (a sign or a zone after the date's own dashes).
create or replace temp macro bronze_has_offset(t, iso_form) as
    iso_form and (suffix(t, 'Z') or suffix(t, 'z') or suffix(t, 'UTC')
        or contains(substr(t, 11), '+') or contains(substr(t, 11), '-'));

-- The instant of a text with an offset, as naive UTC.
create or replace temp macro bronze_utc_naive(t, has_offset) as
    case when has_offset then cast(try_cast(t as timestamptz) as timestamp) end;

-- The offset of a text with one, in seconds.
create or replace temp macro bronze_offset_s(t, has_offset) as
    case
        when has_offset then epoch(try_cast(t as timestamp)) - epoch(cast(try_cast(t as timestamptz) as timestamp))
    end;

-- The wall-clock time of a text without an offset: by the source's format alone, else ISO 8601, else the
-- format's own forms.
create or replace temp macro bronze_local_ts(t, iso_form, has_offset, has_format, time_format, has_native, native_formats) as
    case
        when has_offset or t is null or t = '' then null
        when has_format then try_strptime(t, time_format)
        when iso_form then try_cast(t as timestamp)
        when has_native then try_strptime(t, native_formats)
    end;

-- Why a text is not a time (null if it is one).
create or replace temp macro bronze_time_reason(t, iso_form, has_offset, utc_naive, local_ts, time_label, has_format, time_format) as
    case
        when t is null or t = '' then time_label || ' is empty'
        when has_offset and utc_naive is null then 'timestamp is not a valid ISO-8601 time (' || left(t, 60) || ')'
        when has_offset or local_ts is not null then null
        when has_format then 'timestamp does not match ' || time_format || ' (' || left(t, 60) || ')'
        when iso_form then 'timestamp is not a valid ISO-8601 time (' || left(t, 60) || ')'
        else 'timestamp is not ISO-8601 (' || left(t, 60) || '); set timestamp_format for this source'
    end;

-- Whether a time is outside the source's plausible range, or its offset beyond ±14:00. Wall-clock times
-- are compared with the bounds as wall-clock times of the zone, so that year 1 or 9999 is never converted.
create or replace temp macro bronze_out_of_range(utc_naive, offset_s, local_ts, max_offset_s, earliest_utc, latest_utc, earliest_local, latest_local) as
    coalesce(
        abs(offset_s) > max_offset_s
        or utc_naive < earliest_utc or utc_naive > latest_utc
        or local_ts < earliest_local or local_ts > latest_local,
        false
    );

-- The reason of a time out of range; `shown` is the time as the file gives it.
create or replace temp macro bronze_range_reason(shown, offset_s, max_offset_s, offset_note, range_note) as
    'timestamp out of range (' || shown || '): '
        || case when abs(coalesce(offset_s, 0)) > max_offset_s then offset_note else range_note end;

-- ---- value --------------------------------------------------------------------------------------------

-- Why a row's value cannot land (null if it can): a finite number lands; NaN/Inf/overflow does not; text
-- lands as a bad point when it is a system state of the historian (`is_bad_state`), as a text point where
-- the format has text values, else is not a number; no value lands only on a row marked bad.
-- `num` is the number read, `shown` the value as written, `is_text` a value that is text and no number.
create or replace temp macro bronze_value_reason(value_text, num, shown, is_text, is_bad_state, text_values, quality, value_label) as
    case
        when value_text is not null then null
        when num is not null and (isnan(num) or isinf(num)) then 'Value is not finite: ' || shown
        when num is not null then null
        when is_bad_state then null
        when is_text and text_values then null
        when is_text then 'Value is not a number: ' || left(shown, 40)
        when quality = 'bad' then null
        else value_label || ' is empty'
    end;

-- ---- AVEVA Historian quality ----------------------------------------------------------------------------

-- Quality 0 is good, 16 doubtful, 1 bad (0, 1, 2: the higher the worse); anything else is not a code.
create or replace temp macro aveva_quality_grade(q) as
    case q when 0 then 0 when 16 then 1 when 1 then 2 end;

-- OPCQuality 192 and above is good, 64-191 uncertain, 0-63 bad.
create or replace temp macro aveva_opc_grade(opc) as
    case when opc >= 192 then 0 when opc >= 64 then 1 when opc >= 0 then 2 end;

-- With both columns the worse grade wins.
create or replace temp macro aveva_quality(q_grade, opc_grade) as
    case greatest(coalesce(q_grade, opc_grade), coalesce(opc_grade, q_grade))
        when 0 then 'good' when 1 then 'uncertain' when 2 then 'bad'
    end;

-- The reasons of an AVEVA row before its value, in their order: an empty line, the tag (`tag_control` as
-- in bronze_tag_reason), the time (`ts_reason`), then the Quality and OPCQuality codes (raw text and grade).
create or replace temp macro aveva_row_reason(tag, t, tag_control, ts_reason, q_raw, q_grade, opc_raw, opc_grade) as
    coalesce(
        case when tag = '' and t = '' then 'empty line' end,
        bronze_tag_reason(tag, tag_control, 'TagName'),
        ts_reason,
        case
            when q_raw is not null and q_grade is null then 'Quality code not recognised: ' || left(q_raw, 20)
            when opc_raw is not null and opc_grade is null then 'OPCQuality code not recognised: ' || left(opc_raw, 20)
            when q_raw is null and opc_raw is null then 'no Quality or OPCQuality given'
        end
    );
