-- Asynchronous processing (issue 7): uploads and runs take the jobs' status vocabulary ("pending" is now "queued",
-- "processing" "running"), and a job names its workspace and target and carries its attempts, lease and cancel flag.
-- SQLite cannot change a CHECK constraint: the tables are rebuilt (Migrate runs with foreign keys off).
CREATE TABLE file_uploads_new (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL UNIQUE,  -- insertion order: "newest first" even within one millisecond
    filename       TEXT NOT NULL,
    file_type      TEXT NOT NULL,
    file_size      INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'running', 'retrying', 'completed', 'failed', 'cancelled')),
    row_count      INTEGER NOT NULL DEFAULT 0,
    mapping        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(mapping)),
    error_message  TEXT,
    error_details  TEXT CHECK (error_details IS NULL OR json_valid(error_details)),
    created_at     TEXT NOT NULL,
    completed_at   TEXT,
    metadata       TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO file_uploads_new (id, workspace_id, seq, filename, file_type, file_size, status, row_count, mapping,
                              error_message, error_details, created_at, completed_at, metadata)
SELECT id, workspace_id, seq, filename, file_type, file_size,
       CASE status WHEN 'pending' THEN 'queued' WHEN 'processing' THEN 'running' ELSE status END,
       row_count, mapping, error_message, error_details, created_at, completed_at, metadata
FROM file_uploads;
DROP TABLE file_uploads;
ALTER TABLE file_uploads_new RENAME TO file_uploads;
CREATE INDEX file_uploads_workspace_seq ON file_uploads (workspace_id, seq);

CREATE TABLE analysis_runs_new (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    upload_id         TEXT NOT NULL REFERENCES file_uploads (id) ON DELETE CASCADE,
    strategy_id       TEXT REFERENCES strategies (id) ON DELETE SET NULL,
    strategy_name     TEXT NOT NULL DEFAULT '',
    configuration     TEXT NOT NULL CHECK (json_valid(configuration)),
    status            TEXT NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'retrying', 'completed', 'failed', 'cancelled')),
    progress          REAL NOT NULL DEFAULT 0,
    stage             TEXT NOT NULL DEFAULT '',
    error_message     TEXT,
    metadata          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    flagged_count     INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    started_at        TEXT,
    completed_at      TEXT,
    strategy_version  INTEGER,
    progress_detail   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(progress_detail))
);
INSERT INTO analysis_runs_new (id, workspace_id, upload_id, strategy_id, strategy_name, configuration, status,
                               progress, stage, error_message, metadata, flagged_count, created_at, started_at,
                               completed_at, strategy_version, progress_detail)
SELECT id, workspace_id, upload_id, strategy_id, strategy_name, configuration,
       CASE status WHEN 'pending' THEN 'queued' ELSE status END,
       progress, stage, error_message, metadata, flagged_count, created_at, started_at, completed_at,
       strategy_version, progress_detail
FROM analysis_runs;
DROP TABLE analysis_runs;
ALTER TABLE analysis_runs_new RENAME TO analysis_runs;
CREATE INDEX analysis_runs_workspace_created ON analysis_runs (workspace_id, created_at);
CREATE INDEX analysis_runs_upload ON analysis_runs (upload_id);
CREATE INDEX analysis_runs_strategy_created ON analysis_runs (strategy_id, created_at);

-- No job was ever written before this migration.
DROP TABLE jobs;
CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL,
    target_id         TEXT NOT NULL,  -- an upload's or a run's id, by kind (not a foreign key: two tables)
    payload           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    status            TEXT NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'retrying', 'completed', 'failed', 'cancelled')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL DEFAULT 3,
    worker            TEXT,
    error             TEXT,
    cancel_requested  INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
    run_after         TEXT NOT NULL,
    lease_until       TEXT,
    created_at        TEXT NOT NULL,
    started_at        TEXT,
    finished_at       TEXT,
    updated_at        TEXT NOT NULL,
    UNIQUE (kind, target_id)
);
CREATE INDEX jobs_status_run_after ON jobs (status, run_after);
CREATE INDEX jobs_workspace_created ON jobs (workspace_id, created_at, id);
CREATE INDEX jobs_workspace_target ON jobs (workspace_id, target_id);
