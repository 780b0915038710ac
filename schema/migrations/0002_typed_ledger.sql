-- 0002_typed_ledger: the facts that drive exactly-once decisions get typed
-- columns instead of the JSON map in documents.extra, and a pending intent
-- gets its QBO type and target id in columns of their own instead of the
-- colon-joined "action:type[:id]" text in pending_action.
--
-- Every value is copied from the old form; extra is then dropped.

ALTER TABLE documents ADD COLUMN request_attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN source_updated_at TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN void_receipt_id TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN not_applicable INTEGER NOT NULL DEFAULT 0
	CHECK (not_applicable IN (0, 1));
ALTER TABLE documents ADD COLUMN sent_total TEXT;
ALTER TABLE documents ADD COLUMN sent_customer_id TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN previous_qbo_id TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN pending_qbo_type TEXT;
ALTER TABLE documents ADD COLUMN pending_qbo_id TEXT;

-- Each value is read the way the code before this migration read it:
--   attempt: a leading integer (anything else was read as 0);
--   source_updated: an RFC 3339 time, rewritten to the fixed nine-digit UTC
--     form of every other timestamp; one that did not parse was ignored, and
--     is dropped;
--   not_applicable: set when non-empty;
--   total: a decimal, kept as the same text (the plain form that
--     decimal.String writes; any other was never written, and is dropped:
--     NULL, not recorded, as a total that did not parse was ignored);
--   the ids: as they are.
UPDATE documents SET
	request_attempt = COALESCE(CAST(json_extract(extra, '$.attempt') AS INTEGER), 0),
	source_updated_at = COALESCE((
		SELECT CASE
			WHEN v IS NULL OR julianday(v) IS NULL THEN ''
			-- UTC with a fraction, as written: pad the fraction to nine digits.
			WHEN v GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].*Z'
				AND substr(v, 21, length(v) - 21) NOT GLOB '*[^0-9]*' AND length(v) BETWEEN 22 AND 30
				THEN substr(v, 1, 20) || substr(substr(v, 21, length(v) - 21) || '000000000', 1, 9) || 'Z'
			-- UTC, whole seconds.
			WHEN v GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'
				THEN substr(v, 1, 19) || '.000000000Z'
			-- Another offset: converted to UTC (to the millisecond, all
			-- SQLite keeps).
			ELSE strftime('%Y-%m-%dT%H:%M:%f000000Z', v)
		END
		FROM (SELECT json_extract(extra, '$.source_updated') AS v)), ''),
	void_receipt_id = COALESCE(json_extract(extra, '$.void_sales_receipt'), ''),
	not_applicable = COALESCE(json_extract(extra, '$.not_applicable'), '') <> '',
	sent_total = (
		SELECT CASE
			WHEN (t GLOB '[0-9]*' OR t GLOB '-[0-9]*')
				AND ltrim(t, '-') NOT GLOB '*[^0-9.]*'
				AND ltrim(t, '-') NOT GLOB '*.*.*'
				AND ltrim(t, '-') NOT GLOB '*.'
				THEN t
		END
		FROM (SELECT json_extract(extra, '$.total') AS t)),
	sent_customer_id = COALESCE(json_extract(extra, '$.customer'), ''),
	previous_qbo_id = COALESCE(json_extract(extra, '$.previous_qbo_id'), '')
WHERE extra NOT IN ('', '{}');

-- pending_action was "action", "action:type" or "action:type:id" (the id
-- may itself hold colons). The code took a missing type from qbo_type and a
-- missing void target from qbo_id, and so does the copy; an update applies
-- to the row's own document. As with every pending_* column, a value that
-- is not there (or empty) is NULL.
UPDATE documents SET
	pending_qbo_type = NULLIF(CASE WHEN instr(rest, ':') = 0 THEN rest
		ELSE substr(rest, 1, instr(rest, ':') - 1) END, ''),
	pending_qbo_id = NULLIF(CASE WHEN instr(rest, ':') > 0 THEN substr(rest, instr(rest, ':') + 1) END, ''),
	pending_action = CASE WHEN rest IS NULL THEN pending_action
		ELSE substr(pending_action, 1, instr(pending_action, ':') - 1) END
FROM (SELECT source_kind AS k, source_id AS i,
		CASE WHEN instr(pending_action, ':') > 0 THEN substr(pending_action, instr(pending_action, ':') + 1) END AS rest
	FROM documents WHERE pending_action IS NOT NULL) AS p
WHERE documents.source_kind = p.k AND documents.source_id = p.i;

UPDATE documents SET pending_qbo_type = NULLIF(qbo_type, '')
WHERE pending_action IS NOT NULL AND pending_qbo_type IS NULL;

UPDATE documents SET pending_qbo_id = NULLIF(qbo_id, '')
WHERE pending_action IN ('update', 'void', 'voidreplaced') AND pending_qbo_id IS NULL;

ALTER TABLE documents DROP COLUMN extra;
