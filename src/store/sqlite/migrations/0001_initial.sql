-- Granska schema, SQLite. Same tables and column names as the PostgreSQL schema; here ids are UUID text,
-- timestamps are "YYYY-MM-DDTHH:MM:SS.mmmZ" text, dates "YYYY-MM-DD", times "HH:MM:SS", JSON is checked text.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

INSERT INTO workspaces (id, name, created_at)
VALUES ('00000000-0000-7000-8000-000000000001', 'default', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

CREATE TABLE file_uploads (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL UNIQUE,  -- insertion order: "newest first" even within one millisecond
    filename       TEXT NOT NULL,
    file_type      TEXT NOT NULL,
    file_size      INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    row_count      INTEGER NOT NULL DEFAULT 0,
    mapping        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(mapping)),
    error_message  TEXT,
    error_details  TEXT CHECK (error_details IS NULL OR json_valid(error_details)),
    created_at     TEXT NOT NULL,
    completed_at   TEXT
);
CREATE INDEX file_uploads_workspace_seq ON file_uploads (workspace_id, seq);

CREATE TABLE transactions (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    upload_id          TEXT NOT NULL REFERENCES file_uploads (id) ON DELETE CASCADE,
    row_number         INTEGER NOT NULL,
    source_line        INTEGER NOT NULL DEFAULT 0,
    external_id        TEXT NOT NULL,
    transaction_date   TEXT NOT NULL,
    registration_date  TEXT,
    transaction_time   TEXT,
    account            TEXT NOT NULL DEFAULT '',
    amount_minor       INTEGER NOT NULL,
    -- For ad-hoc SQL only: REAL arithmetic is inexact, code reads amount_minor.
    amount             NUMERIC GENERATED ALWAYS AS (ROUND(amount_minor / 100.0, 2)) VIRTUAL,
    currency           TEXT NOT NULL DEFAULT '',
    description        TEXT NOT NULL DEFAULT '',
    user_id            TEXT NOT NULL DEFAULT '',
    counterparty       TEXT NOT NULL DEFAULT '',
    voucher_series     TEXT NOT NULL DEFAULT '',
    voucher_number     TEXT NOT NULL DEFAULT '',
    raw_data           TEXT CHECK (raw_data IS NULL OR json_valid(raw_data)),
    processed_data     TEXT CHECK (processed_data IS NULL OR json_valid(processed_data)),
    created_at         TEXT NOT NULL,
    UNIQUE (upload_id, row_number),
    UNIQUE (upload_id, external_id)
);
CREATE INDEX transactions_workspace_account ON transactions (workspace_id, account);
CREATE INDEX transactions_workspace_date ON transactions (workspace_id, transaction_date);

CREATE TABLE strategies (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    configuration  TEXT NOT NULL CHECK (json_valid(configuration)),
    version        INTEGER NOT NULL DEFAULT 1,
    is_active      INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (workspace_id, name, version)
);

CREATE TABLE analysis_runs (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    upload_id      TEXT NOT NULL REFERENCES file_uploads (id) ON DELETE CASCADE,
    strategy_id    TEXT REFERENCES strategies (id) ON DELETE SET NULL,
    strategy_name  TEXT NOT NULL DEFAULT '',
    configuration  TEXT NOT NULL CHECK (json_valid(configuration)),
    status         TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    progress       REAL NOT NULL DEFAULT 0,
    stage          TEXT NOT NULL DEFAULT '',
    error_message  TEXT,
    metadata       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    flagged_count  INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    started_at     TEXT,
    completed_at   TEXT
);
CREATE INDEX analysis_runs_workspace_created ON analysis_runs (workspace_id, created_at);
CREATE INDEX analysis_runs_upload ON analysis_runs (upload_id);

CREATE TABLE anomaly_scores (
    run_id          TEXT NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
    transaction_id  TEXT NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
    algorithm       TEXT NOT NULL,
    score           REAL NOT NULL,
    confidence      REAL NOT NULL DEFAULT 0,
    reason          TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, transaction_id, algorithm)
);
CREATE INDEX anomaly_scores_run_score ON anomaly_scores (run_id, score);
CREATE INDEX anomaly_scores_transaction ON anomaly_scores (transaction_id);

CREATE TABLE analysis_results (
    run_id          TEXT NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
    transaction_id  TEXT NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
    score           REAL NOT NULL,
    flagged         INTEGER NOT NULL DEFAULT 0 CHECK (flagged IN (0, 1)),
    rank            INTEGER NOT NULL,
    reasons         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(reasons)),
    PRIMARY KEY (run_id, transaction_id)
);
CREATE INDEX analysis_results_run_rank ON analysis_results (run_id, rank);
CREATE INDEX analysis_results_transaction ON analysis_results (transaction_id);

CREATE TABLE rule_flags (
    id              TEXT PRIMARY KEY,
    run_id          TEXT NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
    transaction_id  TEXT NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
    rule_name       TEXT NOT NULL,
    triggered       INTEGER NOT NULL DEFAULT 0 CHECK (triggered IN (0, 1)),
    flag_value      TEXT,
    metadata        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    created_at      TEXT NOT NULL
);
CREATE INDEX rule_flags_run_transaction ON rule_flags (run_id, transaction_id);
CREATE INDEX rule_flags_transaction ON rule_flags (transaction_id);

CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    status      TEXT NOT NULL DEFAULT 'queued',
    attempts    INTEGER NOT NULL DEFAULT 0,
    run_after   TEXT NOT NULL,
    locked_by   TEXT,
    error       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX jobs_status_run_after ON jobs (status, run_after);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    key_prefix    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);
CREATE INDEX api_keys_prefix ON api_keys (key_prefix);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

CREATE TABLE audit_log (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT REFERENCES workspaces (id) ON DELETE CASCADE,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    target_type   TEXT NOT NULL DEFAULT '',
    target_id     TEXT,
    details       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
    created_at    TEXT NOT NULL
);
CREATE INDEX audit_log_workspace_created ON audit_log (workspace_id, created_at);
