-- The outbox claims due jobs in (run_at, id) order. An index on run_at
-- alone leaves PostgreSQL to sort every due job of the same run_at — an
-- advisory enqueues 20,000 in one transaction — on each claim of a batch.
DROP INDEX jobs_due;
CREATE INDEX jobs_due ON jobs(run_at, id) WHERE status IN ('pending', 'running');
-- Each claim first looks for jobs whose worker was lost on their last
-- attempt: among the few running ones, not among every due one.
CREATE INDEX jobs_running ON jobs(locked_until) WHERE status = 'running';
