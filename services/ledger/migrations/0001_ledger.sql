-- Double-entry ledger. A transfer is created once per payment and is two postings that sum to
-- zero; postings are append-only.
CREATE TABLE transfers (
    id             uuid PRIMARY KEY,
    payment_id     uuid NOT NULL UNIQUE,
    debit_account  text NOT NULL,
    credit_account text NOT NULL,
    amount         bigint NOT NULL CHECK (amount > 0),
    currency       char(3) NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (debit_account <> credit_account)
);

CREATE TABLE postings (
    id          bigserial PRIMARY KEY,
    transfer_id uuid NOT NULL REFERENCES transfers (id),
    account_id  text NOT NULL,
    currency    char(3) NOT NULL,
    amount      bigint NOT NULL CHECK (amount <> 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX postings_by_account ON postings (account_id, currency);
CREATE INDEX postings_by_transfer ON postings (transfer_id);

-- Checked at commit (deferred), so a transaction that wrote one posting but not its twin can
-- never commit.
CREATE FUNCTION transfer_balances() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    tid uuid := coalesce(NEW.transfer_id, OLD.transfer_id);
BEGIN
    IF (SELECT count(*) FROM postings WHERE transfer_id = tid) <> 2
       OR (SELECT sum(amount) FROM postings WHERE transfer_id = tid) <> 0 THEN
        RAISE EXCEPTION 'transfer % does not balance', tid USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER postings_balance
    AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION transfer_balances();

CREATE FUNCTION postings_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'postings are append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER postings_no_rewrite
    BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION postings_append_only();
