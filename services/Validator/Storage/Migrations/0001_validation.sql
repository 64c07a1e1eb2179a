CREATE TABLE {schema}.datasets (
    dataset text PRIMARY KEY,
    label_column text NULL,
    task text NULL,
    updated_at timestamptz NOT NULL
);
CREATE TABLE {schema}.schemas (
    dataset text NOT NULL,
    version int NOT NULL,
    definition jsonb NOT NULL,
    reason text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (dataset, version)
);
-- One decision per batch: the key that makes a redelivered BatchIngested harmless.
CREATE TABLE {schema}.batches (
    batch_id uuid PRIMARY KEY,
    dataset text NOT NULL,
    status text NOT NULL,
    schema_version int NULL,
    row_count bigint NOT NULL,
    sha256 text NOT NULL,
    location text NOT NULL,
    correlation_id uuid NOT NULL,
    reasons jsonb NOT NULL,
    decided_at timestamptz NOT NULL
);
CREATE INDEX batches_dataset ON {schema}.batches (dataset, decided_at);
