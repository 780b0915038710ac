-- 0006_invoice_decisions: "Report as Invoice" as velqbo's own decision, kept
-- on the order's ledger row: who decided (invoice_decided_by) and when
-- (invoice_decided_at). A decided order is mapped as an Invoice exactly as
-- if the source had set report_as_invoice; a SalesReceipt already sent for
-- it is replaced by an Invoice and voided. Rows written before hold '' (no
-- decision).
--
-- documents_invoice_decided finds the decided orders not yet reported as an
-- Invoice (every run re-reads them by id) without scanning the ledger.

ALTER TABLE documents ADD COLUMN invoice_decided_by TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN invoice_decided_at TEXT NOT NULL DEFAULT '';
CREATE INDEX documents_invoice_decided ON documents (source_kind, source_id)
	WHERE invoice_decided_by <> '';
