-- Strategies keep one row each (a stable id and its current version); every version's configuration is kept in
-- strategy_versions, so a run names the exact configuration it used (analysis_runs.strategy_version). A name is
-- unique among the active strategies of a workspace, so a deactivated strategy's name can be used again.
ALTER TABLE strategies DROP CONSTRAINT IF EXISTS strategies_workspace_id_name_version_key;
CREATE UNIQUE INDEX strategies_active_name ON strategies (workspace_id, name) WHERE is_active;
CREATE INDEX strategies_workspace_name ON strategies (workspace_id, name);

CREATE TABLE strategy_versions (
    strategy_id    UUID NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
    version        BIGINT NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    configuration  JSON NOT NULL,  -- byte for byte, like strategies.configuration
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (strategy_id, version)
);
INSERT INTO strategy_versions (strategy_id, version, name, description, configuration, created_at)
SELECT id, version, name, description, configuration, updated_at FROM strategies;

-- The version of the strategy a run used (NULL for an ad-hoc strategy), and the per-algorithm state of a run in
-- progress: {"algorithms": [{"label", "state", "progress", "ms"}]}.
ALTER TABLE analysis_runs ADD COLUMN strategy_version BIGINT,
                          ADD COLUMN progress_detail JSONB NOT NULL DEFAULT '{}';
CREATE INDEX analysis_runs_strategy_created ON analysis_runs (strategy_id, created_at);

-- The read endpoints' filters.
CREATE INDEX transactions_workspace_user ON transactions (workspace_id, user_id);
CREATE INDEX transactions_workspace_amount ON transactions (workspace_id, amount_minor);
CREATE INDEX transactions_upload_date ON transactions (upload_id, transaction_date);
