-- Rollbacks select corrupt batches by ingestion time and by upstream (the system the producer named), so the Registry
-- keeps both per batch from BatchIngested; a version tainted by several batches lists them all.
ALTER TABLE {schema}.batches
    ADD COLUMN ingested_at timestamptz NULL,
    ADD COLUMN upstream text NULL;
CREATE INDEX batches_ingested ON {schema}.batches (dataset, ingested_at);
CREATE INDEX batches_upstream ON {schema}.batches (dataset, upstream, ingested_at);
ALTER TABLE {schema}.versions
    ADD COLUMN tainted_by_batches uuid[] NULL;
