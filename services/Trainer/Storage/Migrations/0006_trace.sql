-- The trace that asked for a job (W3C traceparent), so the run that answers it continues that trace.
ALTER TABLE {schema}.jobs ADD COLUMN trace_parent text NULL;
