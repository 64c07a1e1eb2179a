-- The upstream system a batch (or a pending row) came from, as its producer named it; null when not named.
-- Rows of different upstreams are cut into different batches, so a batch has one.
ALTER TABLE {schema}.batches ADD COLUMN upstream text NULL;
ALTER TABLE {schema}.pending_rows ADD COLUMN upstream text NULL;
