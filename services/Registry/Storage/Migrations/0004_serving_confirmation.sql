-- A promotion is a request until a Predictor replica confirms it loaded the version; only then does it become a row
-- of promotions (the serving record). A request every live replica refused stays a request (state refused), and the
-- record keeps the version that serves. Generations are allocated across both tables.
CREATE TABLE {schema}.serving_requests (
    dataset text NOT NULL,
    generation bigint NOT NULL,
    version int NOT NULL,
    reason text NOT NULL,
    actor text NOT NULL,
    details jsonb NULL,
    correlation_id uuid NOT NULL,
    requested_at timestamptz NOT NULL,
    state text NOT NULL,              -- pending, serving, refused, superseded
    resolved_at timestamptz NULL,
    resolution text NULL,
    PRIMARY KEY (dataset, generation),
    FOREIGN KEY (dataset, version) REFERENCES {schema}.versions (dataset, version)
);
CREATE INDEX serving_requests_pending ON {schema}.serving_requests (dataset) WHERE state = 'pending';
-- Predictor replicas, from their periodic reports: live while heard from within a few report intervals.
CREATE TABLE {schema}.replicas (
    replica text PRIMARY KEY,
    first_seen timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    interval_seconds int NOT NULL,
    stopped_at timestamptz NULL
);
-- What each replica serves per dataset, and the last version it refused (with the reason).
CREATE TABLE {schema}.replica_serving (
    dataset text NOT NULL,
    replica text NOT NULL,
    version int NULL,
    generation bigint NULL,
    sha256 text NULL,
    since timestamptz NULL,
    refused_version int NULL,
    refused_generation bigint NULL,
    refusal_kind text NULL,
    refusal_reason text NULL,
    refused_at timestamptz NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (dataset, replica)
);
