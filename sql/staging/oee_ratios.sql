-- oee_ratios: the four OEE ratios, the only place their formulas are written. The staging views (and through
-- them every OEE mart) and the CLI's summary over days call these macros; a test keeps the formulas out of
-- every other SQL and Python file.
--
-- Each ratio is a quotient of times, so that on any roll-up (machines of a line, lines of a site, days of a
-- summary) the times are summed first and the ratios taken from the sums. Averaging ratios instead would
-- weigh a machine that ran ten minutes like one that ran all day. With times, the chain cancels on every
-- row:
--
--   availability x performance x quality = run/planned x ideal/run x fully productive/ideal
--                                        = fully productive/planned = oee
--
-- wherever all three factors are defined. Ideal time is total count x ideal cycle time and fully productive
-- time good count x ideal cycle time: seconds add up across machines that count different things (a
-- filler's bottles, a packer's packs), counts do not. On one machine's row the ideal cycle time cancels from
-- quality, which is then taken from its counts (good / total), free of the rounding of the products.
--
-- NULL, not 0, where the denominator is 0: nothing planned, no run time, nothing made. OEE keeps its own
-- denominator (planned time) rather than being the product, so a machine stopped through planned time has
-- oee 0 though its performance and quality are NULL.

-- availability: the share of planned production time the machine ran (minor stops included).
create or replace temp macro availability(run_s, planned_s) as
    run_s / nullif(planned_s, 0);

-- performance: ideal time for what was made over run time (above 1 only with a wrong ideal cycle time).
create or replace temp macro performance(ideal_s, run_s) as
    ideal_s / nullif(run_s, 0);

-- quality: good output over all output, in ideal seconds (fully productive / ideal) or, on one machine, units.
create or replace temp macro quality(good_output, total_output) as
    good_output / nullif(total_output, 0);

-- oee: fully productive time (good x ideal cycle time) over planned production time.
create or replace temp macro oee(fully_productive_s, planned_s) as
    fully_productive_s / nullif(planned_s, 0);

-- mean_ideal_cycle: the ideal cycle time a machine ran at on average, ideal time over the units made (each
-- product at its own cycle): not a ratio of OEE, but a quotient of the same times and counts.
create or replace temp macro mean_ideal_cycle(ideal_s, units) as
    ideal_s / nullif(units, 0);
