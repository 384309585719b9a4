-- Each account's Ed25519 key pair, which signs its answers and its offline license files.
-- The public key is the raw 32 bytes in base64url; the private key is its PKCS#8 form, sealed with
-- AES-256-GCM under KEYSTACK_MASTER_KEY (bound to the account id), useless from a copy of D1.
-- Accounts made before this migration get their pair on first use (src/accounts/signing-key.ts).
ALTER TABLE accounts ADD COLUMN signing_public_key TEXT;
ALTER TABLE accounts ADD COLUMN signing_private_sealed TEXT;
