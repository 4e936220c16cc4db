-- Migration 0001: the schema of provgw at 489b79c (orders, steps, transcript, SMS receipts, lines,
-- and the resources), frozen. Every statement is IF NOT EXISTS: a database made before the
-- schema was versioned adopts it as it stands (see gateway.store.migrations).
CREATE TABLE IF NOT EXISTS orders (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    msisdn       TEXT,
    channel      TEXT NOT NULL,
    operator     TEXT NOT NULL,
    body         TEXT NOT NULL,
    digest       TEXT NOT NULL,
    state        TEXT NOT NULL,
    phase        TEXT NOT NULL DEFAULT 'forward',
    reason       TEXT,
    attention    INTEGER NOT NULL DEFAULT 0,
    plan         TEXT,
    lease_owner  TEXT,
    lease_until  REAL,
    waiting_for  TEXT,
    waiting_since REAL,
    deadline_at  REAL,
    note         TEXT,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL,
    finished_at  REAL
);
CREATE INDEX IF NOT EXISTS orders_unfinished ON orders(state)
    WHERE state IN ('accepted','provisioning','waiting_for_ne');
CREATE INDEX IF NOT EXISTS orders_attention ON orders(attention) WHERE attention = 1;
CREATE INDEX IF NOT EXISTS orders_msisdn ON orders(msisdn);
CREATE TABLE IF NOT EXISTS steps (
    order_id     TEXT NOT NULL,
    idx          INTEGER NOT NULL,
    phase        TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    started_at   REAL,
    finished_at  REAL,
    PRIMARY KEY (order_id, phase, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS transcript (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id     TEXT NOT NULL,
    idx          INTEGER NOT NULL,
    phase        TEXT NOT NULL,
    ne           TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    code         TEXT NOT NULL,
    text         TEXT NOT NULL,
    command      TEXT NOT NULL,
    response     TEXT NOT NULL,
    elapsed_ms   REAL NOT NULL,
    at           REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS transcript_order ON transcript(order_id);
CREATE TABLE IF NOT EXISTS sms_messages (
    message_id   TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL,
    idx          INTEGER NOT NULL,
    status       TEXT NOT NULL,
    updated_at   REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sms_messages_order ON sms_messages(order_id);
CREATE TABLE IF NOT EXISTS lines (
    msisdn       TEXT PRIMARY KEY,
    data         TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS number_blocks (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    first        TEXT NOT NULL,
    last         TEXT NOT NULL,
    count        INTEGER NOT NULL,
    imported_by  TEXT NOT NULL,
    imported_at  REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS numbers (
    msisdn        TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    block         TEXT NOT NULL,
    state         TEXT NOT NULL,
    prior_state   TEXT,
    state_since   REAL NOT NULL,
    recycled_at   REAL,
    location      TEXT NOT NULL DEFAULT '',
    hold_token    TEXT,
    hold_operator TEXT,
    hold_channel  TEXT,
    hold_until    REAL,
    reserved_for  TEXT,
    order_id      TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS numbers_holder ON numbers(hold_operator) WHERE state = 'held';
CREATE INDEX IF NOT EXISTS numbers_location ON numbers(location);
CREATE TABLE IF NOT EXISTS number_settings (
    key          TEXT PRIMARY KEY,
    value        REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fee_rules (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    body         TEXT NOT NULL,
    updated_by   TEXT NOT NULL,
    updated_at   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS fee_changes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id      INTEGER NOT NULL,
    before       TEXT,
    after        TEXT NOT NULL,
    operator     TEXT NOT NULL,
    at           REAL NOT NULL
);
CREATE TRIGGER IF NOT EXISTS fee_changes_kept BEFORE DELETE ON fee_changes
BEGIN SELECT RAISE(ABORT, 'the fee change record is kept'); END;
CREATE TRIGGER IF NOT EXISTS fee_rules_kept BEFORE DELETE ON fee_rules
BEGIN SELECT RAISE(ABORT, 'fee rules are disabled, never deleted'); END;

CREATE TABLE IF NOT EXISTS sim_batches (
    id           TEXT PRIMARY KEY,
    stamp        TEXT NOT NULL,
    quantity     INTEGER NOT NULL,
    product      TEXT NOT NULL,
    transport_key INTEGER NOT NULL,
    ota_key      INTEGER,
    imported_by  TEXT NOT NULL,
    imported_at  REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sims (
    iccid        TEXT PRIMARY KEY,
    imsi         TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    batch        TEXT,
    product      TEXT,
    acc          TEXT,
    secrets      TEXT,
    has_ki       INTEGER NOT NULL DEFAULT 0,
    state        TEXT NOT NULL,
    condition    TEXT NOT NULL DEFAULT 'usable',
    location     TEXT NOT NULL DEFAULT '',
    reserved_by  TEXT,
    order_id     TEXT,
    state_since  REAL NOT NULL,
    created_at   REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sims_location ON sims(location, state);

CREATE TABLE IF NOT EXISTS movements (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    resource     TEXT NOT NULL,
    direction    TEXT NOT NULL,
    from_location TEXT NOT NULL,
    to_location  TEXT NOT NULL,
    operator     TEXT NOT NULL,
    receiver     TEXT NOT NULL,
    count        INTEGER NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    at           REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS movement_items (
    movement_id  INTEGER NOT NULL,
    item         TEXT NOT NULL,
    PRIMARY KEY (movement_id, item)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS movement_items_item ON movement_items(item);

CREATE TABLE IF NOT EXISTS customers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    id_type      TEXT NOT NULL,
    id_number    TEXT NOT NULL,
    name         TEXT NOT NULL,
    address      TEXT,
    contact      TEXT,
    created_by   TEXT NOT NULL,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL,
    UNIQUE (id_type, id_number)
);
CREATE TABLE IF NOT EXISTS categories (
    number       INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    note         TEXT NOT NULL DEFAULT '',
    refuses_open INTEGER NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL,
    created_at   REAL NOT NULL
);
CREATE TRIGGER IF NOT EXISTS categories_kept BEFORE DELETE ON categories
BEGIN SELECT RAISE(ABORT, 'customer categories are never deleted'); END;
INSERT OR IGNORE INTO categories (number, name, note, refuses_open, created_by, created_at)
VALUES (1, 'normal', '普通客户', 0, 'system', 0),
       (2, 'VIP', '大客户', 0, 'system', 0),
       (3, 'blacklist', '黑名单: may not open an account; shared with partners', 1, 'system', 0),
       (4, 'redlist', '红名单: protected customer', 0, 'system', 0);
CREATE TABLE IF NOT EXISTS customer_categories (
    customer_id  INTEGER NOT NULL,
    category     INTEGER NOT NULL REFERENCES categories(number),
    since        REAL NOT NULL,
    added_by     TEXT NOT NULL,
    PRIMARY KEY (customer_id, category)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS channels (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    city         TEXT NOT NULL,
    area         TEXT NOT NULL,
    hours        TEXT NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS operators (
    id           TEXT PRIMARY KEY,
    job_number   TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    password     TEXT NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS operator_channels (
    operator_id  TEXT NOT NULL,
    channel_id   TEXT NOT NULL,
    PRIMARY KEY (operator_id, channel_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS audit (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           REAL NOT NULL,
    operator     TEXT NOT NULL,
    channel      TEXT NOT NULL,
    action       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_operator ON audit(operator, at);
CREATE TRIGGER IF NOT EXISTS audit_kept BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is kept'); END;
