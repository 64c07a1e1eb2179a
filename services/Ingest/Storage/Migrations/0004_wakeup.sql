-- Every statement that stores pending row events wakes the row batcher of every replica at commit
-- (PostgresWakeups LISTENs on the channel; wakeup() is the messaging tables' notify function), so an idle batcher
-- need not look for rows several times a second.
CREATE OR REPLACE TRIGGER wakeup AFTER INSERT ON {schema}.pending_rows FOR EACH STATEMENT EXECUTE FUNCTION {schema}.wakeup('ctm_ingest_rows');
