-- Provenance: datasets with their promotion policy, batches with their status history, promotion decisions with
-- their numbers, rollback requests (idempotency and their outcome), taint and external lineage on versions.
CREATE TABLE {schema}.datasets (
    name text PRIMARY KEY,
    policy_mode text NOT NULL DEFAULT 'auto',          -- auto: promote when not worse than tolerance; manual: wait for approval
    tolerance double precision NOT NULL DEFAULT 0.05,  -- how much worse the primary metric may be, absolute
    metric text NULL,                                  -- primary metric; null = accuracy (classification) or rmse (regression)
    policy_updated_by text NULL,
    policy_updated_at timestamptz NULL,
    schema_version int NULL,                           -- the newest accepted schema: what uploaded models are mapped onto
    features jsonb NULL,
    label_column text NULL,
    task text NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE {schema}.batches (
    batch_id uuid PRIMARY KEY,
    dataset text NOT NULL,
    status text NOT NULL,
    status_at timestamptz NOT NULL,
    row_count bigint NULL,
    sha256 text NULL,
    rows_location text NULL,
    statistics_location text NULL,
    schema_version int NULL
);
CREATE INDEX batches_dataset ON {schema}.batches (dataset);
CREATE TABLE {schema}.batch_events (
    id bigserial PRIMARY KEY,
    batch_id uuid NOT NULL,
    dataset text NOT NULL,
    status text NOT NULL,
    at timestamptz NOT NULL,
    actor text NULL,
    details jsonb NULL,
    UNIQUE (batch_id, status, at)                      -- a redelivered event is one history entry
);
ALTER TABLE {schema}.versions
    ADD COLUMN tainted_at timestamptz NULL,
    ADD COLUMN taint_reason text NULL,
    ADD COLUMN tainted_by_batch uuid NULL,
    ADD COLUMN baseline_metrics jsonb NULL,
    ADD COLUMN input_mapping jsonb NULL,
    ADD COLUMN description text NULL,
    ADD COLUMN uploaded_by text NULL,
    ADD COLUMN external_source text NULL,
    ADD COLUMN file_name text NULL;
CREATE TABLE {schema}.promotion_decisions (
    id bigserial PRIMARY KEY,
    dataset text NOT NULL,
    version int NOT NULL,
    decision text NOT NULL,       -- promoted, pending, rejected, tainted, stale, approved, refused
    basis text NOT NULL,          -- what was compared: same-holdout, recorded-metrics, first-version, none
    metric text NULL,
    candidate_value double precision NULL,
    baseline_value double precision NULL,
    baseline_version int NULL,
    tolerance double precision NULL,
    mode text NOT NULL,
    actor text NOT NULL,
    reason text NULL,
    at timestamptz NOT NULL,
    FOREIGN KEY (dataset, version) REFERENCES {schema}.versions (dataset, version)
);
CREATE INDEX promotion_decisions_version ON {schema}.promotion_decisions (dataset, version);
CREATE TABLE {schema}.rollback_requests (
    request_id uuid PRIMARY KEY,
    dataset text NOT NULL,
    outcome jsonb NOT NULL,
    deliveries int NOT NULL DEFAULT 1,                 -- how often the request arrived; only the first had an effect
    at timestamptz NOT NULL
);
CREATE INDEX audit_log_dataset ON {schema}.audit_log (dataset, id);
CREATE INDEX promotions_history ON {schema}.promotions (dataset, promoted_at);
