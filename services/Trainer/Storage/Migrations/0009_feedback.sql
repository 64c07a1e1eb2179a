-- Label feedback: keyed predictions the Predictors served, kept for a window, joined by key to labels that arrive
-- later (label events on the bus, or a labeled batch's key column), and scored per version and role into the quality
-- series. One row per (dataset, key, version, role): a redelivered report has no second effect, and the serving,
-- canary and shadow versions' answers for one key are measured side by side.
CREATE TABLE {schema}.served_predictions (
    dataset text NOT NULL,
    key text NOT NULL,
    version int NOT NULL,
    role text NOT NULL,
    label text NULL,
    probabilities jsonb NULL,
    value double precision NULL,
    served_at timestamptz NOT NULL,
    truth text NULL,
    joined_at timestamptz NULL,
    scored boolean NOT NULL DEFAULT false,
    PRIMARY KEY (dataset, key, version, role)
);
CREATE INDEX served_predictions_age ON {schema}.served_predictions (dataset, served_at);
CREATE INDEX served_predictions_ready ON {schema}.served_predictions (dataset, version, role) WHERE truth IS NOT NULL AND NOT scored;
-- Labels by key, kept for the window whether joined or not: one label per key (the first), so a repeat counts once,
-- and a label that came before its prediction waits here for it.
CREATE TABLE {schema}.feedback_labels (
    dataset text NOT NULL,
    key text NOT NULL,
    truth text NOT NULL,
    source text NOT NULL,
    labeled_at timestamptz NOT NULL,
    arrived_at timestamptz NOT NULL,
    joined_at timestamptz NULL,
    PRIMARY KEY (dataset, key)
);
CREATE INDEX feedback_labels_age ON {schema}.feedback_labels (dataset, arrived_at);
-- What storage forgot is counted, not lost silently.
CREATE TABLE {schema}.feedback_counters (
    dataset text PRIMARY KEY,
    predictions_received bigint NOT NULL DEFAULT 0,
    predictions_duplicate bigint NOT NULL DEFAULT 0,
    predictions_dropped bigint NOT NULL DEFAULT 0,
    predictions_joined bigint NOT NULL DEFAULT 0,
    predictions_expired bigint NOT NULL DEFAULT 0,
    predictions_evicted bigint NOT NULL DEFAULT 0,
    labels_received bigint NOT NULL DEFAULT 0,
    labels_duplicate bigint NOT NULL DEFAULT 0,
    labels_joined bigint NOT NULL DEFAULT 0,
    labels_expired bigint NOT NULL DEFAULT 0
);
-- Per dataset quality settings: the column of labeled batches that carries the example key, and the slices an
-- operator named (feature = value, or a numeric range), scored like the automatic ones.
CREATE TABLE {schema}.quality_datasets (
    dataset text PRIMARY KEY,
    key_column text NULL,
    slices jsonb NULL,
    updated_at timestamptz NOT NULL
);
-- Labeled batches whose key column has been read (once each).
CREATE TABLE {schema}.feedback_batches (
    batch_id uuid PRIMARY KEY,
    dataset text NOT NULL,
    labels int NOT NULL,
    read_at timestamptz NOT NULL
);
-- The quality series holds both test-then-train points (a batch scored by the version serving when it arrived) and
-- served-and-labeled points (what a version answered, joined to labels), per role.
ALTER TABLE {schema}.quality ADD COLUMN source text NOT NULL DEFAULT 'test-then-train';
ALTER TABLE {schema}.quality ADD COLUMN role text NULL;
ALTER TABLE {schema}.quality ALTER COLUMN run_id DROP NOT NULL;
