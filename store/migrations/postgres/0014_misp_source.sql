-- MISP events are stored as the STIX objects they map to; their import
-- records say so with source 'misp'.
ALTER TABLE stix_imports DROP CONSTRAINT stix_imports_source_check;
ALTER TABLE stix_imports ADD CONSTRAINT stix_imports_source_check CHECK (source IN ('api', 'cli', 'ui', 'taxii', 'misp'));
