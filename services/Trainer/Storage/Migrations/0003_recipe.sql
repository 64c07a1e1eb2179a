-- What each run cost and what kind of run it was: the compute a benchmark sums (rows x epochs actually processed,
-- replay, validation and calibration included), and full retrain vs warm update with the reason.
ALTER TABLE {schema}.runs ADD COLUMN trained_samples bigint NOT NULL DEFAULT 0;
ALTER TABLE {schema}.runs ADD COLUMN mode text NOT NULL DEFAULT 'full';
ALTER TABLE {schema}.runs ADD COLUMN mode_reason text NULL;
