-- 0004_failed_items: a failed row says whether a person must act (QBO
-- refused the document itself: a validation or business-rule fault) and
-- for how many consecutive runs it has failed so; a person can set a row
-- aside (state 'skipped') with a reason, recorded with who and when.
--
-- needs_person, failed_runs, failed_run_id: set by a refused write, kept
-- by the next refusal (failed_runs counts once per run), cleared by any
-- other outcome. skip_reason, skipped_by, skipped_at: set by a skip,
-- cleared by a retry or any recorded outcome. Rows written before hold
-- the defaults: not needing a person, not skipped.

ALTER TABLE documents ADD COLUMN needs_person INTEGER NOT NULL DEFAULT 0
	CHECK (needs_person IN (0, 1));
ALTER TABLE documents ADD COLUMN failed_runs INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN failed_run_id TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN skip_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN skipped_by TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN skipped_at TEXT NOT NULL DEFAULT '';
