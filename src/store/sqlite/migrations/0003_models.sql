-- Fitted ML models saved with the run that fitted them (docs/models.md), one per algorithm label; a later run can
-- score another upload with one.
CREATE TABLE models (
    run_id      TEXT NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
    label       TEXT NOT NULL,
    algorithm   TEXT NOT NULL,
    version     INTEGER NOT NULL,
    document    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (run_id, label)
);
