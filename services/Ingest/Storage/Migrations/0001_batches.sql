CREATE TABLE {schema}.batches (
    id uuid PRIMARY KEY,
    dataset text NOT NULL,
    row_count bigint NOT NULL,
    byte_count bigint NOT NULL,
    sha256 text NOT NULL,
    columns text[] NOT NULL,
    content bytea NOT NULL,
    source text NOT NULL,
    idempotency_key text NULL,
    correlation_id uuid NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX batches_dataset ON {schema}.batches (dataset, created_at);
-- A client retrying an upload with the same key gets the same batch, not a second one.
CREATE UNIQUE INDEX batches_idempotency ON {schema}.batches (dataset, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Row events from the bus wait here, committed, until the batcher cuts a batch.
CREATE TABLE {schema}.pending_rows (
    id bigserial PRIMARY KEY,
    dataset text NOT NULL,
    event_key text NOT NULL UNIQUE,
    row jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pending_rows_dataset ON {schema}.pending_rows (dataset, id);
