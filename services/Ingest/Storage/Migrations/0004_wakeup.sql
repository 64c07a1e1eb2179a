-- Every statement that stores pending row events wakes the row batcher of every replica at commit
-- (PostgresWakeups LISTENs on the channel), so an idle batcher need not look for rows several times a second.
CREATE OR REPLACE FUNCTION {schema}.pending_rows_wakeup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ctm_ingest_rows', '');
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER wakeup AFTER INSERT ON {schema}.pending_rows FOR EACH STATEMENT EXECUTE FUNCTION {schema}.pending_rows_wakeup();
