-- Strategies keep one row each (a stable id and its current version); every version's configuration is kept in
-- strategy_versions, so a run names the exact configuration it used (analysis_runs.strategy_version). A name is
-- unique among the active strategies of a workspace, so a deactivated strategy's name can be used again.
-- SQLite cannot drop a table constraint: the table is rebuilt (Migrate runs with foreign keys off).
CREATE TABLE strategies_new (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    configuration  TEXT NOT NULL CHECK (json_valid(configuration)),
    version        INTEGER NOT NULL DEFAULT 1,
    is_active      INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
INSERT INTO strategies_new (id, workspace_id, name, description, configuration, version, is_active, created_at,
                            updated_at)
SELECT id, workspace_id, name, description, configuration, version, is_active, created_at, updated_at
FROM strategies;
DROP TABLE strategies;
ALTER TABLE strategies_new RENAME TO strategies;
CREATE UNIQUE INDEX strategies_active_name ON strategies (workspace_id, name) WHERE is_active = 1;
CREATE INDEX strategies_workspace_name ON strategies (workspace_id, name);

CREATE TABLE strategy_versions (
    strategy_id    TEXT NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
    version        INTEGER NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    configuration  TEXT NOT NULL CHECK (json_valid(configuration)),
    created_at     TEXT NOT NULL,
    PRIMARY KEY (strategy_id, version)
);
INSERT INTO strategy_versions (strategy_id, version, name, description, configuration, created_at)
SELECT id, version, name, description, configuration, updated_at FROM strategies;

-- The version of the strategy a run used (NULL for an ad-hoc strategy), and the per-algorithm state of a run in
-- progress: {"algorithms": [{"label", "state", "progress", "ms"}]}.
ALTER TABLE analysis_runs ADD COLUMN strategy_version INTEGER;
ALTER TABLE analysis_runs ADD COLUMN progress_detail TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(progress_detail));
CREATE INDEX analysis_runs_strategy_created ON analysis_runs (strategy_id, created_at);

-- The read endpoints' filters.
CREATE INDEX transactions_workspace_user ON transactions (workspace_id, user_id);
CREATE INDEX transactions_workspace_amount ON transactions (workspace_id, amount_minor);
CREATE INDEX transactions_upload_date ON transactions (upload_id, transaction_date);
