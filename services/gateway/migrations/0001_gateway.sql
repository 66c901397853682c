-- API keys are stored as SHA-256 digests, never in clear: a leaked table grants nothing.
CREATE TABLE api_keys (
    key_sha256  text PRIMARY KEY,
    merchant_id text NOT NULL,
    label       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
