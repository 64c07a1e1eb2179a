-- Which engine trains a dataset and where (null: the service's Training:Engine / Training:Device), and which engine
-- and device trained each run (runs already record the device).
ALTER TABLE {schema}.policies ADD COLUMN engine text NULL;
ALTER TABLE {schema}.policies ADD COLUMN device text NULL;
ALTER TABLE {schema}.runs ADD COLUMN engine text NOT NULL DEFAULT 'ctm-managed-simd';
