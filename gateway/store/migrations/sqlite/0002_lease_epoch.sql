-- Migration 0002: fencing. Each order's lease carries an epoch that grows whenever another
-- process (or the same one after its lease ran out) takes the order over; every intent is
-- recorded only under the epoch its writer holds (gateway.store.orders).
ALTER TABLE orders ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
