-- Licenses and the machines activated on them. Times are Unix milliseconds (UTC).
CREATE TABLE licenses (
  id            TEXT PRIMARY KEY,               -- lic_<ULID>: sorts by creation time
  account_id    TEXT NOT NULL REFERENCES accounts(id),
  key           TEXT NOT NULL COLLATE NOCASE,   -- ASCII only, so NOCASE compares case-insensitively
  name          TEXT,
  status        TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
  expires_at    INTEGER,                        -- NULL: never expires
  max_machines  INTEGER,                        -- NULL: unlimited
  entitlements  TEXT NOT NULL DEFAULT '[]',     -- JSON array of strings
  metadata      TEXT NOT NULL DEFAULT '{}',     -- JSON object, at most 4 KiB
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

-- validate/activate/deactivate/heartbeat look a license up by account + key; keys are unique per account.
CREATE UNIQUE INDEX licenses_by_key ON licenses (account_id, key);
-- Listing (keyset pagination, newest first), with and without a status filter.
CREATE INDEX licenses_by_account ON licenses (account_id, id);
CREATE INDEX licenses_by_status ON licenses (account_id, status, id);

CREATE TABLE machines (
  id                 TEXT PRIMARY KEY,          -- mch_<ULID>
  account_id         TEXT NOT NULL REFERENCES accounts(id),
  license_id         TEXT NOT NULL REFERENCES licenses(id),
  fingerprint        TEXT NOT NULL,
  name               TEXT,
  platform           TEXT,
  created_at         INTEGER NOT NULL,
  last_heartbeat_at  INTEGER
);

-- One machine per fingerprint and license; also serves counting and listing a license's machines.
CREATE UNIQUE INDEX machines_by_fingerprint ON machines (license_id, fingerprint);
