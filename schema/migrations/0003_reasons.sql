-- 0003_reasons: a blocked or failed row, and a run's item, keep their
-- reasons as data next to the text: each reason's code, subject and fix, as
-- the engine encodes them (a JSON array), so that `status` and the console
-- can show the fix their own way. Rows written before hold '' (text only).

ALTER TABLE documents ADD COLUMN last_reasons TEXT NOT NULL DEFAULT '';
ALTER TABLE run_items ADD COLUMN reasons TEXT NOT NULL DEFAULT '';
