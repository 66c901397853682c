-- Payments and their idempotency keys. A payment is created `pending` and moves once to a
-- terminal status; it is `authorized` exactly when the ledger holds its transfer.
CREATE TABLE payments (
    id               uuid PRIMARY KEY,
    merchant_id      text NOT NULL,
    idempotency_key  text NOT NULL,
    request_hash     text NOT NULL,
    customer_id      text NOT NULL,
    amount           bigint NOT NULL CHECK (amount > 0),
    currency         char(3) NOT NULL,
    card_brand       text NOT NULL,
    card_last4       char(4) NOT NULL,
    card_fingerprint text NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'authorized', 'declined', 'review', 'failed')),
    risk_decision    text CHECK (risk_decision IN ('approve', 'decline', 'review')),
    risk_score       smallint,
    risk_path        text,
    failure_reason   text,
    transfer_id      uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, idempotency_key),
    CHECK ((status = 'authorized') = (transfer_id IS NOT NULL)),
    CHECK (status <> 'authorized' OR risk_decision = 'approve')
);

-- The recovery loop looks for payments stuck in `pending`.
CREATE INDEX payments_pending ON payments (updated_at) WHERE status = 'pending';
