-- The library's schema (types, presence, domains, ranges) beside the contract view kept in definition.
ALTER TABLE {schema}.schemas ADD COLUMN data_schema jsonb NULL;
ALTER TABLE {schema}.schemas ADD COLUMN created_by text NULL;

-- The library's full decision (p-values, examples) and the accepted batches the batch was compared with.
ALTER TABLE {schema}.batches ADD COLUMN details jsonb NULL;
ALTER TABLE {schema}.batches ADD COLUMN window_batch_ids uuid[] NULL;
ALTER TABLE {schema}.batches ADD COLUMN updated_at timestamptz NULL;
CREATE INDEX batches_dataset_sha256 ON {schema}.batches (dataset, sha256);

-- Mergeable statistics per batch: a window or a training baseline is a merge of these.
CREATE TABLE {schema}.batch_statistics (
    batch_id uuid PRIMARY KEY,
    dataset text NOT NULL,
    statistics jsonb NOT NULL,
    created_at timestamptz NOT NULL
);

-- Schema changes the Validator proposes for a batch quarantined for schema reasons; an operator decides.
CREATE TABLE {schema}.schema_proposals (
    id uuid PRIMARY KEY,
    dataset text NOT NULL,
    batch_id uuid NOT NULL,
    base_version int NOT NULL,
    changes jsonb NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL,
    decided_by text NULL,
    decision_reason text NULL,
    decided_at timestamptz NULL,
    resulting_version int NULL
);
CREATE INDEX schema_proposals_dataset ON {schema}.schema_proposals (dataset, created_at);

-- Who did what to which batch or schema, when and why.
CREATE TABLE {schema}.audit_log (
    id bigserial PRIMARY KEY,
    dataset text NOT NULL,
    batch_id uuid NULL,
    action text NOT NULL,
    operator text NOT NULL,
    reason text NOT NULL,
    details jsonb NULL,
    at timestamptz NOT NULL
);
CREATE INDEX audit_log_dataset ON {schema}.audit_log (dataset, id);

-- Per-feature drift and skew thresholds; feature '*' is the dataset's default.
CREATE TABLE {schema}.thresholds (
    dataset text NOT NULL,
    feature text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('drift', 'skew')),
    significance double precision NOT NULL,
    jensen_shannon_floor double precision NOT NULL,
    l_infinity_floor double precision NOT NULL,
    enabled boolean NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (dataset, feature, kind)
);

-- Which batches each training run used (ModelTrained), and which run made each served version (ModelPromoted).
CREATE TABLE {schema}.model_runs (
    run_id uuid PRIMARY KEY,
    dataset text NOT NULL,
    batch_ids uuid[] NOT NULL,
    schema_version int NOT NULL,
    finished_at timestamptz NOT NULL
);
CREATE TABLE {schema}.model_versions (
    dataset text NOT NULL,
    version int NOT NULL,
    run_id uuid NULL,
    generation bigint NOT NULL,
    promoted_at timestamptz NOT NULL,
    PRIMARY KEY (dataset, version)
);

-- Serving statistics checked against the serving version's training baseline.
CREATE TABLE {schema}.skew_reports (
    id uuid PRIMARY KEY,
    dataset text NOT NULL,
    model_version int NOT NULL,
    replica text NOT NULL,
    window_start timestamptz NOT NULL,
    window_end timestamptz NOT NULL,
    sampled_rows bigint NOT NULL,
    served_rows bigint NOT NULL,
    statistics jsonb NOT NULL,
    baseline_batch_ids uuid[] NOT NULL,
    status text NOT NULL,
    anomalies jsonb NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX skew_reports_dataset ON {schema}.skew_reports (dataset, created_at);
