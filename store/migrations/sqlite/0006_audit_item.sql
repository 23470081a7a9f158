-- The shareable item an audit entry is about, so that audit views show
-- entries only to those the sharing-range rule allows.
ALTER TABLE audit_log ADD COLUMN item_id INTEGER;
CREATE INDEX audit_log_item ON audit_log(item_id);
