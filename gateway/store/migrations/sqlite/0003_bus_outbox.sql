-- Migration 0003: the order bus's outbox (gateway.store.outbox): status messages wait here until
-- the broker has them, so that nothing published while the broker was down is lost.
CREATE TABLE bus_outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    owner        TEXT NOT NULL,
    topic        TEXT NOT NULL,
    payload      BLOB NOT NULL,
    correlation  BLOB,
    properties   TEXT,
    created_at   REAL NOT NULL
);
CREATE INDEX bus_outbox_owner ON bus_outbox(owner, id);
