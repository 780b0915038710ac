-- 0007_pace_slots: QBO's per-minute request windows of each realm, kept
-- here so that every velqbo process on this database paces against one
-- budget (QBO counts requests per company, not per process). One row is one
-- request's booked place in the window of its realm and kind ('requests',
-- 'batches'); a new request counts the rows of its window (schema/pace.go).
-- id is AUTOINCREMENT so that an id is never reused after its row aged out
-- (a late finish must not land on another request's row).
--
-- Times are Unix nanoseconds: every QBO request reads and writes this table,
-- and the window arithmetic compares them. at_ns is the booked send time;
-- free_ns is when the row stops counting: end + the window's length once the
-- request ended (ended = 1), else at + the call's time bound + the window's
-- length, so that the row of a process that died mid-request ages out.
-- Rows are deleted once free_ns has passed.

CREATE TABLE pace_slots (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	realm   TEXT NOT NULL,
	kind    TEXT NOT NULL,
	at_ns   INTEGER NOT NULL,
	free_ns INTEGER NOT NULL,
	ended   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX pace_slots_window ON pace_slots (realm, kind, ended, free_ns);
