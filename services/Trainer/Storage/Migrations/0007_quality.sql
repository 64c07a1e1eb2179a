-- Test-then-train quality: a labeled batch is scored by the version that served when it arrived, before any training
-- on it. The consumer that records the batch notes that version here (same transaction); the worker scores it.
CREATE TABLE {schema}.quality_pending (
    batch_id uuid PRIMARY KEY,
    dataset text NOT NULL,
    version int NOT NULL,
    run_id uuid NOT NULL,
    correlation_id uuid NOT NULL,
    attempts int NOT NULL DEFAULT 0,
    error text NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quality_pending_dataset ON {schema}.quality_pending (dataset);
-- The series: one row per (batch, version), so a redelivered batch or a retried scoring has no second effect.
CREATE TABLE {schema}.quality (
    batch_id uuid NOT NULL,
    version int NOT NULL,
    dataset text NOT NULL,
    run_id uuid NOT NULL,
    seq bigint NOT NULL,
    accepted_at timestamptz NOT NULL,
    scored_at timestamptz NOT NULL,
    rows int NOT NULL,
    metric text NOT NULL,
    value double precision NULL,
    overall jsonb NOT NULL,
    slices jsonb NOT NULL,
    histogram jsonb NOT NULL,
    psi double precision NULL,
    PRIMARY KEY (batch_id, version)
);
CREATE INDEX quality_series ON {schema}.quality (dataset, seq);
-- Numeric slices are quantile buckets whose cut points are fixed from the dataset's first scored batch, so a slice
-- means the same rows in every batch and has a history.
CREATE TABLE {schema}.quality_edges (
    dataset text PRIMARY KEY,
    edges jsonb NOT NULL
);
CREATE TABLE {schema}.quality_alerts (
    id bigserial PRIMARY KEY,
    dataset text NOT NULL,
    batch_id uuid NOT NULL,
    version int NOT NULL,
    kind text NOT NULL,
    slice text NULL,
    sentence text NOT NULL,
    numbers jsonb NOT NULL,
    raised_at timestamptz NOT NULL
);
CREATE INDEX quality_alerts_dataset ON {schema}.quality_alerts (dataset, id);
ALTER TABLE {schema}.policies ADD COLUMN retrain_on_quality_alert boolean NOT NULL DEFAULT false;
