-- landing_repeat_keys: the (tag, time) hashes that occur more than once among a file's staged points (view
-- `points`): usually none. Equal pairs hash equal, so every repeat is among them (a collision only ranks a
-- few more rows, each first of its own pair). Found by sorting the hashes, which spills to disk within the
-- memory limit: a hash aggregate of a 5 GB export's 70 M keys runs out of memory at 128 MB instead.
create temp table repeat_keys as
select distinct h
from (select h, lead(h) over (order by h) as next_h from (select hash(tag, ts) as h from points))
where h = next_h
