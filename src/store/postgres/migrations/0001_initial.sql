-- Granska schema, PostgreSQL. Same tables and column names as the SQLite schema. Money is exact: amount_minor
-- (what code reads and writes) and amount, the NUMERIC(15,2) the plan asks for, generated from it.

CREATE TABLE workspaces (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO workspaces (id, name) VALUES ('00000000-0000-7000-8000-000000000001', 'default');

CREATE TABLE file_uploads (
    id             UUID PRIMARY KEY,
    workspace_id   UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    seq            BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,  -- insertion order: "newest first" within a ms
    filename       TEXT NOT NULL,
    file_type      TEXT NOT NULL,
    file_size      BIGINT NOT NULL DEFAULT 0,
    status         TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    row_count      BIGINT NOT NULL DEFAULT 0,
    mapping        JSONB NOT NULL DEFAULT '{}',
    error_message  TEXT,
    error_details  JSONB,
    created_at     TIMESTAMPTZ NOT NULL,
    completed_at   TIMESTAMPTZ
);
CREATE INDEX file_uploads_workspace_seq ON file_uploads (workspace_id, seq);

CREATE TABLE transactions (
    id                 UUID PRIMARY KEY,
    workspace_id       UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    upload_id          UUID NOT NULL REFERENCES file_uploads (id) ON DELETE CASCADE,
    row_number         BIGINT NOT NULL,
    source_line        BIGINT NOT NULL DEFAULT 0,
    external_id        TEXT NOT NULL,
    transaction_date   DATE NOT NULL,
    registration_date  DATE,
    transaction_time   TIME,
    account            TEXT NOT NULL DEFAULT '',
    amount_minor       BIGINT NOT NULL,
    amount             NUMERIC(15, 2) GENERATED ALWAYS AS (amount_minor::NUMERIC / 100) STORED,
    currency           TEXT NOT NULL DEFAULT '',
    description        TEXT NOT NULL DEFAULT '',
    user_id            TEXT NOT NULL DEFAULT '',
    counterparty       TEXT NOT NULL DEFAULT '',
    voucher_series     TEXT NOT NULL DEFAULT '',
    voucher_number     TEXT NOT NULL DEFAULT '',
    raw_data           JSONB,
    processed_data     JSONB,
    created_at         TIMESTAMPTZ NOT NULL,
    UNIQUE (upload_id, row_number),
    UNIQUE (upload_id, external_id)
);
CREATE INDEX transactions_workspace_account ON transactions (workspace_id, account);
CREATE INDEX transactions_workspace_date ON transactions (workspace_id, transaction_date);

CREATE TABLE strategies (
    id             UUID PRIMARY KEY,
    workspace_id   UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    configuration  JSON NOT NULL,  -- JSON, not JSONB: the strategy text is kept byte for byte
    version        BIGINT NOT NULL DEFAULT 1,
    is_active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, name, version)
);

CREATE TABLE analysis_runs (
    id             UUID PRIMARY KEY,
    workspace_id   UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    upload_id      UUID NOT NULL REFERENCES file_uploads (id) ON DELETE CASCADE,
    strategy_id    UUID REFERENCES strategies (id) ON DELETE SET NULL,
    strategy_name  TEXT NOT NULL DEFAULT '',
    configuration  JSON NOT NULL,  -- the exact strategy text the run used
    status         TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    progress       DOUBLE PRECISION NOT NULL DEFAULT 0,
    stage          TEXT NOT NULL DEFAULT '',
    error_message  TEXT,
    metadata       JSONB NOT NULL DEFAULT '{}',
    flagged_count  BIGINT NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL,
    started_at     TIMESTAMPTZ,
    completed_at   TIMESTAMPTZ
);
CREATE INDEX analysis_runs_workspace_created ON analysis_runs (workspace_id, created_at);
CREATE INDEX analysis_runs_upload ON analysis_runs (upload_id);

CREATE TABLE anomaly_scores (
    run_id          UUID NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
    transaction_id  UUID NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
    algorithm       TEXT NOT NULL,
    score           DOUBLE PRECISION NOT NULL,
    confidence      DOUBLE PRECISION NOT NULL DEFAULT 0,
    reason          TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, transaction_id, algorithm)
);
CREATE INDEX anomaly_scores_run_score ON anomaly_scores (run_id, score);
CREATE INDEX anomaly_scores_transaction ON anomaly_scores (transaction_id);

CREATE TABLE analysis_results (
    run_id          UUID NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
    transaction_id  UUID NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
    score           DOUBLE PRECISION NOT NULL,
    flagged         BOOLEAN NOT NULL DEFAULT FALSE,
    rank            BIGINT NOT NULL,
    reasons         JSONB NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_id, transaction_id)
);
CREATE INDEX analysis_results_run_rank ON analysis_results (run_id, rank);
CREATE INDEX analysis_results_transaction ON analysis_results (transaction_id);

CREATE TABLE rule_flags (
    id              UUID PRIMARY KEY,
    run_id          UUID NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
    transaction_id  UUID NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
    rule_name       TEXT NOT NULL,
    triggered       BOOLEAN NOT NULL DEFAULT FALSE,
    flag_value      TEXT,
    metadata        JSONB NOT NULL DEFAULT '{}',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX rule_flags_run_transaction ON rule_flags (run_id, transaction_id);
CREATE INDEX rule_flags_transaction ON rule_flags (transaction_id);

CREATE TABLE jobs (
    id          UUID PRIMARY KEY,
    kind        TEXT NOT NULL,
    payload     JSONB NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL DEFAULT 'queued',
    attempts    INTEGER NOT NULL DEFAULT 0,
    run_after   TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_by   TEXT,
    error       TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX jobs_status_run_after ON jobs (status, run_after);

CREATE TABLE api_keys (
    id            UUID PRIMARY KEY,
    workspace_id  UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    key_prefix    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ
);
CREATE INDEX api_keys_prefix ON api_keys (key_prefix);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

CREATE TABLE audit_log (
    id            UUID PRIMARY KEY,
    workspace_id  UUID REFERENCES workspaces (id) ON DELETE CASCADE,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    target_type   TEXT NOT NULL DEFAULT '',
    target_id     TEXT,
    details       JSONB NOT NULL DEFAULT '{}',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_workspace_created ON audit_log (workspace_id, created_at);
