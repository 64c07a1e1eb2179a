-- How far each decided batch was from its reference, per feature and measure (BatchMeasures JSON): the measures of
-- accepted batches are the dataset's empirical null, the ones just before a batch carry the persistent-shift evidence.
CREATE TABLE {schema}.batch_measures (
    batch_id uuid PRIMARY KEY,
    dataset text NOT NULL,
    measures jsonb NOT NULL,
    decided_at timestamptz NOT NULL
);
CREATE INDEX batch_measures_dataset ON {schema}.batch_measures (dataset, decided_at);

-- The calibrated thresholds (warn and block deviations, history, persistence, domain settling, floors) beside the
-- original four columns, as the full DriftThresholds JSON; NULL for rows written before them (defaults apply).
ALTER TABLE {schema}.thresholds ADD COLUMN settings jsonb NULL;
