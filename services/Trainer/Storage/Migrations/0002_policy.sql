-- The order in which the Trainer learned of batches: a run trains on the batches up to a cut-off in this order,
-- so "every 3 batches" gives versions on exactly batches 1-3, 1-6, 1-9. A released batch re-enters at the end.
CREATE SEQUENCE {schema}.batch_seq;
ALTER TABLE {schema}.batches ADD COLUMN seq bigint NOT NULL DEFAULT nextval('{schema}.batch_seq');
CREATE INDEX batches_seq ON {schema}.batches (dataset, seq);
-- A job triggered by a batch names it; a run records the cut-off it took, so a retried run trains on the same batches.
ALTER TABLE {schema}.jobs ADD COLUMN batch_id uuid NULL;
ALTER TABLE {schema}.jobs ADD COLUMN cutoff_seq bigint NULL;
-- The run a warm start continued from: influence is transitive, so a parent chain that saw an excluded batch is not continued.
ALTER TABLE {schema}.runs ADD COLUMN parent_run_id uuid NULL;
ALTER TABLE {schema}.runs ADD COLUMN baseline_version int NULL;
ALTER TABLE {schema}.runs ADD COLUMN baseline_metrics jsonb NULL;
ALTER TABLE {schema}.runs ADD COLUMN device text NOT NULL DEFAULT 'cpu';
ALTER TABLE {schema}.runs ADD COLUMN holdout_batch_id uuid NULL;
ALTER TABLE {schema}.runs ADD COLUMN window_description text NOT NULL DEFAULT 'all';
-- When to train and on what, per dataset; a dataset without a row trains after every accepted batch on all of them.
CREATE TABLE {schema}.policies (
    dataset text PRIMARY KEY,
    trigger text NOT NULL,
    every_batches int NOT NULL,
    every_rows bigint NOT NULL,
    interval_seconds double precision NOT NULL,
    catch_up boolean NOT NULL,
    window_kind text NOT NULL,
    window_batches int NOT NULL,
    half_life_hours double precision NOT NULL,
    warm_start boolean NOT NULL,
    epochs int NULL,
    batch_size int NULL,
    updated_at timestamptz NOT NULL
);
-- Discarded and corrupt batches are excluded for good, even when the event arrives before the batch is known
-- here or a release comes later.
CREATE TABLE {schema}.excluded_batches (
    batch_id uuid PRIMARY KEY,
    dataset text NOT NULL,
    reason text NOT NULL,
    excluded_at timestamptz NOT NULL
);
