-- The SHA-256 of the request body an Idempotency-Key was first used with: the same key with another body is refused.
ALTER TABLE {schema}.batches ADD COLUMN request_sha256 text NULL;

-- Row-event ids seen, kept for the dedupe window after their rows were cut into a batch (pending rows are deleted at
-- the cut, so they alone cannot tell a repeat that arrives later).
CREATE TABLE {schema}.row_event_keys (
    event_key text PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX row_event_keys_received ON {schema}.row_event_keys (received_at);

-- A batch's content in chunks of a few MiB, written and read one chunk at a time, so the service's memory does not
-- grow with the batch (a single bytea value is one buffer on the client). Batches stored before keep batches.content.
ALTER TABLE {schema}.batches ALTER COLUMN content DROP NOT NULL;
CREATE TABLE {schema}.batch_chunks (
    batch_id uuid NOT NULL REFERENCES {schema}.batches (id) ON DELETE CASCADE,
    seq integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (batch_id, seq)
);
