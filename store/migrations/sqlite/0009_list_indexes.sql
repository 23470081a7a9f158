-- Indexes for lists at national size (docs/PERFORMANCE.md). A case list
-- is ordered by last activity, COALESCE(last_report_at, created_at), then
-- id: indexing that expression lets the first page be read in order and
-- stop after a page, instead of sorting every visible case; the sector
-- filter gets its own such index. Counting labels and finding the reports
-- waiting at an organisation get the indexes their conditions need.
CREATE INDEX cases_activity ON cases(COALESCE(last_report_at, created_at), id);
CREATE INDEX cases_sector_activity ON cases(sector_code, COALESCE(last_report_at, created_at), id);
-- Labels a secretariat has given (CountLabels).
CREATE INDEX cases_secretariat ON cases(secretariat_org_id);
-- Versions waiting at an organisation (Incoming): the released ones, which
-- are almost all, are left out.
CREATE INDEX report_versions_waiting ON report_versions(to_org_id) WHERE status = 'submitted' AND NOT released;
-- Counting a sector's cases reads only this index and the items.
CREATE INDEX cases_sector_item ON cases(sector_code, item_id);
