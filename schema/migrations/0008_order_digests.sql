-- 0008_order_digests: what lets a no-change run recognise an unchanged
-- order from its raw export line, without decoding or mapping it.
--
-- order_digests holds, per order, the digest of the export line and of
-- every other mapping input (settings, company currency facts, time zone,
-- the program) that a run found to give only documents already in QBO as
-- desired (order_digests.digest, computed in reconcile), the epoch at which
-- that run's scan began, the documents it counted unchanged, the order's
-- updated_at, and the customer and product ids whose links the mapping read
-- (deps, encoded by reconcile).
--
-- Why the triggers: a digest is only valid while the order's ledger rows
-- and links are as the run that recorded it read them. Every write to a
-- ledger row deletes the digests of its order (by order id and by order
-- number, before and after the write), so no code path writing the ledger
-- can leave a stale digest behind. Every write to a ledger row or a link
-- also advances scan_epoch: a run records its digests only if the epoch is
-- still the one its scan began at (nothing was written meanwhile). A link
-- write stamps its velocity id in link_changes with the new epoch: a digest
-- older than the link change of one of its deps is not used. (The triggers
-- delete and insert rather than INSERT OR REPLACE: a trigger's conflict
-- policy is overridden by the statement that fires it.)

CREATE TABLE scan_epoch (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n  INTEGER NOT NULL
);
INSERT INTO scan_epoch (id, n) VALUES (1, 0);

CREATE TABLE link_changes (
	link_kind   TEXT NOT NULL CHECK (link_kind IN ('customer', 'product')),
	velocity_id TEXT NOT NULL,
	epoch       INTEGER NOT NULL,
	PRIMARY KEY (link_kind, velocity_id)
) WITHOUT ROWID;

CREATE TABLE order_digests (
	order_id     TEXT PRIMARY KEY,
	order_number TEXT NOT NULL,
	digest       BLOB NOT NULL,
	epoch        INTEGER NOT NULL,
	docs         INTEGER NOT NULL,
	updated_at   TEXT NOT NULL,
	deps         BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX order_digests_order_number ON order_digests (order_number);

CREATE TRIGGER documents_digest_insert AFTER INSERT ON documents BEGIN
	UPDATE scan_epoch SET n = n + 1;
	DELETE FROM order_digests WHERE order_id = NEW.source_id OR order_number = NEW.order_number;
END;

CREATE TRIGGER documents_digest_update AFTER UPDATE ON documents BEGIN
	UPDATE scan_epoch SET n = n + 1;
	DELETE FROM order_digests WHERE order_id IN (OLD.source_id, NEW.source_id)
		OR order_number IN (OLD.order_number, NEW.order_number);
END;

CREATE TRIGGER documents_digest_delete AFTER DELETE ON documents BEGIN
	UPDATE scan_epoch SET n = n + 1;
	DELETE FROM order_digests WHERE order_id = OLD.source_id OR order_number = OLD.order_number;
END;

CREATE TRIGGER customer_links_digest_insert AFTER INSERT ON customer_links BEGIN
	UPDATE scan_epoch SET n = n + 1;
	DELETE FROM link_changes WHERE link_kind = 'customer' AND velocity_id = NEW.velocity_id;
	INSERT INTO link_changes VALUES ('customer', NEW.velocity_id, (SELECT n FROM scan_epoch));
END;

CREATE TRIGGER customer_links_digest_update AFTER UPDATE ON customer_links BEGIN
	UPDATE scan_epoch SET n = n + 1;
	DELETE FROM link_changes WHERE link_kind = 'customer' AND velocity_id = OLD.velocity_id;
	INSERT INTO link_changes VALUES ('customer', OLD.velocity_id, (SELECT n FROM scan_epoch));
	DELETE FROM link_changes WHERE link_kind = 'customer' AND velocity_id = NEW.velocity_id;
	INSERT INTO link_changes VALUES ('customer', NEW.velocity_id, (SELECT n FROM scan_epoch));
END;

CREATE TRIGGER customer_links_digest_delete AFTER DELETE ON customer_links BEGIN
	UPDATE scan_epoch SET n = n + 1;
	DELETE FROM link_changes WHERE link_kind = 'customer' AND velocity_id = OLD.velocity_id;
	INSERT INTO link_changes VALUES ('customer', OLD.velocity_id, (SELECT n FROM scan_epoch));
END;

CREATE TRIGGER product_links_digest_insert AFTER INSERT ON product_links BEGIN
	UPDATE scan_epoch SET n = n + 1;
	DELETE FROM link_changes WHERE link_kind = 'product' AND velocity_id = NEW.velocity_id;
	INSERT INTO link_changes VALUES ('product', NEW.velocity_id, (SELECT n FROM scan_epoch));
END;

CREATE TRIGGER product_links_digest_update AFTER UPDATE ON product_links BEGIN
	UPDATE scan_epoch SET n = n + 1;
	DELETE FROM link_changes WHERE link_kind = 'product' AND velocity_id = OLD.velocity_id;
	INSERT INTO link_changes VALUES ('product', OLD.velocity_id, (SELECT n FROM scan_epoch));
	DELETE FROM link_changes WHERE link_kind = 'product' AND velocity_id = NEW.velocity_id;
	INSERT INTO link_changes VALUES ('product', NEW.velocity_id, (SELECT n FROM scan_epoch));
END;

CREATE TRIGGER product_links_digest_delete AFTER DELETE ON product_links BEGIN
	UPDATE scan_epoch SET n = n + 1;
	DELETE FROM link_changes WHERE link_kind = 'product' AND velocity_id = OLD.velocity_id;
	INSERT INTO link_changes VALUES ('product', OLD.velocity_id, (SELECT n FROM scan_epoch));
END;
