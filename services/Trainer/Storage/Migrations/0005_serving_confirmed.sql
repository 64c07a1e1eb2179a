-- A promotion is a request until a Predictor replica confirms it loaded the version (ModelLoaded); warm starts follow
-- what serves, so the Trainer remembers each promotion (with the run that made it) and whether a replica loaded it.
-- Either message may arrive first; the serving pointer moves once both are in.
CREATE TABLE {schema}.promotions (
    dataset text NOT NULL,
    generation bigint NOT NULL,
    version int NOT NULL,
    run_id uuid NULL,
    promoted boolean NOT NULL DEFAULT false,
    loaded boolean NOT NULL DEFAULT false,
    PRIMARY KEY (dataset, generation)
);
