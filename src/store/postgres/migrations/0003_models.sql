-- Fitted ML models saved with the run that fitted them (docs/models.md), one per algorithm label; a later run can
-- score another upload with one. The document is kept as text: exactly the bytes that were written.
CREATE TABLE models (
    run_id      UUID NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
    label       TEXT NOT NULL,
    algorithm   TEXT NOT NULL,
    version     INTEGER NOT NULL,
    document    TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, label)
);
