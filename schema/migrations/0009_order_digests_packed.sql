-- 0009_order_digests_packed: an order digest is one packed column (rec:
-- the digest, the documents counted, updated_at and deps, packed by
-- schema/digests.go) instead of six, and the ledger triggers find an
-- order's digest through its order row instead of an order_number column
-- and index of their own. Writing a million digests cost a tenth of a
-- first no-change run with the columns, the index and a parameter each.
--
-- The digests recorded so far are dropped: the next no-change run records
-- them again.
--
-- The digests of an order go with a write to any of its rows: the order's
-- own (by id) or a refund's or payment's (by the order row of the same
-- order number; reconcile records a digest only when every row of the
-- order carries the order's number, the order row included).

DROP TRIGGER documents_digest_insert;
DROP TRIGGER documents_digest_update;
DROP TRIGGER documents_digest_delete;
DROP TABLE order_digests;

CREATE TABLE order_digests (
	order_id TEXT PRIMARY KEY,
	epoch    INTEGER NOT NULL,
	rec      BLOB NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER documents_digest_insert AFTER INSERT ON documents BEGIN
	UPDATE scan_epoch SET n = n + 1;
	DELETE FROM order_digests WHERE order_id = NEW.source_id OR order_id IN
		(SELECT source_id FROM documents WHERE source_kind = 'order' AND order_number = NEW.order_number);
END;

CREATE TRIGGER documents_digest_update AFTER UPDATE ON documents BEGIN
	UPDATE scan_epoch SET n = n + 1;
	DELETE FROM order_digests WHERE order_id IN (OLD.source_id, NEW.source_id) OR order_id IN
		(SELECT source_id FROM documents WHERE source_kind = 'order' AND order_number IN (OLD.order_number, NEW.order_number));
END;

CREATE TRIGGER documents_digest_delete AFTER DELETE ON documents BEGIN
	UPDATE scan_epoch SET n = n + 1;
	DELETE FROM order_digests WHERE order_id = OLD.source_id OR order_id IN
		(SELECT source_id FROM documents WHERE source_kind = 'order' AND order_number = OLD.order_number);
END;
