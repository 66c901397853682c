-- One assessment per payment: risk answers a repeated request for a payment with the stored one.
CREATE TABLE assessments (
    id          uuid PRIMARY KEY,
    payment_id  uuid NOT NULL UNIQUE,
    merchant_id text NOT NULL,
    customer_id text NOT NULL,
    amount      bigint NOT NULL CHECK (amount > 0),
    currency    char(3) NOT NULL,
    decision    text NOT NULL CHECK (decision IN ('approve', 'decline', 'review')),
    score       smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
    path        text NOT NULL CHECK (path IN ('fast', 'deep', 'degraded')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Velocity: a customer's recent assessments.
CREATE INDEX assessments_by_customer ON assessments (customer_id, created_at);
