-- The validation report of each upload's parse: format, encoding, dialect, mapping, counts, problems.
ALTER TABLE file_uploads ADD COLUMN metadata JSONB NOT NULL DEFAULT '{}';
