-- Asynchronous processing (issue 7): uploads and runs take the jobs' status vocabulary ("pending" is now "queued",
-- "processing" "running"), and a job names its workspace and target and carries its attempts, lease and cancel flag.
ALTER TABLE file_uploads DROP CONSTRAINT IF EXISTS file_uploads_status_check;
UPDATE file_uploads SET status = CASE status WHEN 'pending' THEN 'queued' ELSE 'running' END
WHERE status IN ('pending', 'processing');
ALTER TABLE file_uploads ALTER COLUMN status SET DEFAULT 'queued',
    ADD CONSTRAINT file_uploads_status_check
        CHECK (status IN ('queued', 'running', 'retrying', 'completed', 'failed', 'cancelled'));

ALTER TABLE analysis_runs DROP CONSTRAINT IF EXISTS analysis_runs_status_check;
UPDATE analysis_runs SET status = 'queued' WHERE status = 'pending';
ALTER TABLE analysis_runs ALTER COLUMN status SET DEFAULT 'queued',
    ADD CONSTRAINT analysis_runs_status_check
        CHECK (status IN ('queued', 'running', 'retrying', 'completed', 'failed', 'cancelled'));

-- No job was ever written before this migration.
DROP TABLE jobs;
CREATE TABLE jobs (
    id                UUID PRIMARY KEY,
    workspace_id      UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL,
    target_id         UUID NOT NULL,  -- an upload's or a run's id, by kind (not a foreign key: two tables)
    payload           JSONB NOT NULL DEFAULT '{}',
    status            TEXT NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'retrying', 'completed', 'failed', 'cancelled')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL DEFAULT 3,
    worker            TEXT,
    error             TEXT,
    cancel_requested  BOOLEAN NOT NULL DEFAULT FALSE,
    run_after         TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_until       TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at        TIMESTAMPTZ,
    finished_at       TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (kind, target_id)
);
CREATE INDEX jobs_status_run_after ON jobs (status, run_after);
CREATE INDEX jobs_workspace_created ON jobs (workspace_id, created_at, id);
CREATE INDEX jobs_workspace_target ON jobs (workspace_id, target_id);
