-- Every statement that records training jobs wakes the training worker of every replica at commit
-- (PostgresWakeups LISTENs on the channel; wakeup() is the messaging tables' notify function), so idle workers need
-- not ask for jobs every second.
CREATE OR REPLACE TRIGGER wakeup AFTER INSERT ON {schema}.jobs FOR EACH STATEMENT EXECUTE FUNCTION {schema}.wakeup('ctm_trainer_jobs');
