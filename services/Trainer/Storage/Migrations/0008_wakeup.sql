-- Every statement that records training jobs wakes the training worker of every replica at commit
-- (PostgresWakeups LISTENs on the channel), so idle workers need not ask for jobs every second.
CREATE OR REPLACE FUNCTION {schema}.jobs_wakeup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ctm_trainer_jobs', '');
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER wakeup AFTER INSERT ON {schema}.jobs FOR EACH STATEMENT EXECUTE FUNCTION {schema}.jobs_wakeup();
