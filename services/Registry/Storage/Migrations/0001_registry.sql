CREATE TABLE {schema}.versions (
    dataset text NOT NULL,
    version int NOT NULL,
    run_id uuid NULL UNIQUE,           -- one version per training run, however often ModelTrained arrives
    parent_version int NULL,
    schema_version int NULL,
    task text NOT NULL,
    artifact bytea NOT NULL,
    sha256 text NOT NULL,
    size bigint NOT NULL,
    metrics jsonb NOT NULL,
    slice_metrics jsonb NULL,
    parameters jsonb NOT NULL,
    engine text NOT NULL,
    device text NOT NULL,
    seed int NULL,
    code_version text NULL,
    started_at timestamptz NULL,
    finished_at timestamptz NULL,
    samples_per_second double precision NULL,
    origin text NOT NULL,
    tainted boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (dataset, version),
    FOREIGN KEY (dataset, parent_version) REFERENCES {schema}.versions (dataset, version)
);
CREATE TABLE {schema}.version_batches (
    dataset text NOT NULL,
    version int NOT NULL,
    batch_id uuid NOT NULL,
    PRIMARY KEY (dataset, version, batch_id),
    FOREIGN KEY (dataset, version) REFERENCES {schema}.versions (dataset, version)
);
CREATE INDEX version_batches_batch ON {schema}.version_batches (batch_id);
-- Serving history: the row with ended_at NULL is what serves now; "what served at T" is one range query.
CREATE TABLE {schema}.promotions (
    id bigserial PRIMARY KEY,
    dataset text NOT NULL,
    version int NOT NULL,
    generation bigint NOT NULL,
    reason text NOT NULL,
    actor text NOT NULL,
    details jsonb NULL,
    promoted_at timestamptz NOT NULL,
    ended_at timestamptz NULL,
    UNIQUE (dataset, generation),
    FOREIGN KEY (dataset, version) REFERENCES {schema}.versions (dataset, version)
);
CREATE UNIQUE INDEX promotions_current ON {schema}.promotions (dataset) WHERE ended_at IS NULL;
CREATE TABLE {schema}.audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    dataset text NOT NULL,
    details jsonb NOT NULL
);
