-- Accepted batches as the Trainer knows them; excluded when quarantined, discarded or declared corrupt later.
CREATE TABLE {schema}.batches (
    batch_id uuid PRIMARY KEY,
    dataset text NOT NULL,
    location text NOT NULL,
    sha256 text NOT NULL,
    row_count bigint NOT NULL,
    schema_version int NOT NULL,
    features jsonb NOT NULL,
    label_column text NOT NULL,
    task text NOT NULL,
    accepted_at timestamptz NOT NULL,
    excluded boolean NOT NULL DEFAULT false,
    excluded_reason text NULL
);
CREATE INDEX batches_dataset ON {schema}.batches (dataset, accepted_at);
-- Jobs are recorded and the triggering message acknowledged at once: a run longer than the broker's
-- consumer timeout is never delivered twice. trigger_key makes a redelivered trigger harmless.
CREATE TABLE {schema}.jobs (
    id uuid PRIMARY KEY,
    dataset text NOT NULL,
    trigger_key text NOT NULL UNIQUE,
    reason text NOT NULL,
    correlation_id uuid NOT NULL,
    from_version int NULL,
    full_retrain boolean NOT NULL DEFAULT false,
    status text NOT NULL,
    attempts int NOT NULL DEFAULT 0,
    run_id uuid NULL,
    error text NULL,
    created_at timestamptz NOT NULL,
    finished_at timestamptz NULL
);
CREATE INDEX jobs_open ON {schema}.jobs (dataset, created_at) WHERE status IN ('pending', 'running');
CREATE TABLE {schema}.runs (
    id uuid PRIMARY KEY,
    dataset text NOT NULL,
    parent_version int NULL,
    batch_ids uuid[] NOT NULL,
    schema_version int NOT NULL,
    state bytea NOT NULL,
    artifact bytea NOT NULL,
    sha256 text NOT NULL,
    metrics jsonb NOT NULL,
    loss_curve jsonb NOT NULL,
    parameters jsonb NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    samples_per_second double precision NOT NULL
);
CREATE INDEX runs_dataset ON {schema}.runs (dataset, finished_at);
CREATE TABLE {schema}.serving (
    dataset text PRIMARY KEY,
    version int NOT NULL,
    generation bigint NOT NULL,
    run_id uuid NULL
);
