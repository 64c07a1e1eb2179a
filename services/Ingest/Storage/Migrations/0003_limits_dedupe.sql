-- The SHA-256 of the request body an Idempotency-Key was first used with: the same key with another body is refused.
ALTER TABLE {schema}.batches ADD COLUMN request_sha256 text NULL;

-- Row-event ids seen, kept for the dedupe window after their rows were cut into a batch (pending rows are deleted at
-- the cut, so they alone cannot tell a repeat that arrives later).
CREATE TABLE {schema}.row_event_keys (
    event_key text PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX row_event_keys_received ON {schema}.row_event_keys (received_at);
