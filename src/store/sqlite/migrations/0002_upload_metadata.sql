-- The validation report of each upload's parse: format, encoding, dialect, mapping, counts, problems.
ALTER TABLE file_uploads ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
