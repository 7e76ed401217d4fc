-- The PostgreSQL baseline of `tally bench --postgres URL`: the same checks a Tally
-- transfer and DvP make, in one durable PostgreSQL (fsync and synchronous commit on, as
-- the server ships). Loaded by bench/postgres/setup.sh; `:accounts` and `:owners` are
-- psql variables.
--
-- What a transfer checks here, as Tally's ledger does (docs/operations.md): the sender's
-- nonce (replay), the debited owner's approval (the sender's participant owns the
-- account), amount positive and a multiple of the instrument's increment, distinct
-- accounts, both accounts exist and are not frozen, both owners exist, are not suspended
-- and KYC-verified, the instrument is not paused, the available balance suffices; then
-- both holdings change, the receipt is recorded. Signatures are not checked (Tally's
-- ceiling line prints what they cost).

DROP TABLE IF EXISTS receipts, holdings, accounts, instruments, participants, nonces CASCADE;

CREATE TABLE participants (
    id           integer PRIMARY KEY,
    suspended    boolean NOT NULL DEFAULT false,
    kyc_verified boolean NOT NULL DEFAULT true
);
CREATE TABLE nonces (
    sender integer PRIMARY KEY REFERENCES participants(id),
    next   bigint  NOT NULL
);
CREATE TABLE accounts (
    id     bigint  PRIMARY KEY,
    owner  integer NOT NULL REFERENCES participants(id),
    frozen boolean NOT NULL DEFAULT false
);
CREATE TABLE instruments (
    id        bigint  PRIMARY KEY,
    increment numeric NOT NULL CHECK (increment > 0),
    paused    boolean NOT NULL DEFAULT false
);
CREATE TABLE holdings (
    account    bigint  NOT NULL REFERENCES accounts(id),
    instrument bigint  NOT NULL REFERENCES instruments(id),
    balance    numeric NOT NULL CHECK (balance >= 0),
    held       numeric NOT NULL DEFAULT 0 CHECK (held >= 0),
    frozen     numeric NOT NULL DEFAULT 0 CHECK (frozen >= 0),
    PRIMARY KEY (account, instrument)
);
CREATE TABLE receipts (
    id     bigserial PRIMARY KEY,
    sender integer  NOT NULL,
    nonce  bigint   NOT NULL,
    code   smallint NOT NULL
);

INSERT INTO participants (id) SELECT g FROM generate_series(0, :owners - 1) g;
INSERT INTO nonces (sender, next) SELECT g, 0 FROM generate_series(0, :owners - 1) g;
INSERT INTO accounts (id, owner) SELECT g, g % :owners FROM generate_series(0, :accounts - 1) g;
INSERT INTO instruments (id, increment) VALUES (1, 1), (2, 10000);
INSERT INTO holdings (account, instrument, balance)
    SELECT g, i, 1000000000000 FROM generate_series(0, :accounts - 1) g, generate_series(1, 2) i;
ANALYZE;

-- One leg, with every check; raises (rolling the transaction back) on the first failure.
CREATE OR REPLACE FUNCTION move_units(f bigint, t bigint, inst bigint, amount numeric)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    fa accounts; ta accounts; fo participants; tw participants; i instruments; avail numeric;
BEGIN
    IF amount <= 0 THEN RAISE EXCEPTION 'ZeroAmount'; END IF;
    IF f = t THEN RAISE EXCEPTION 'SameAccount'; END IF;
    SELECT * INTO fa FROM accounts WHERE id = f;
    SELECT * INTO ta FROM accounts WHERE id = t;
    IF fa.id IS NULL OR ta.id IS NULL THEN RAISE EXCEPTION 'AccountNotFound'; END IF;
    SELECT * INTO i FROM instruments WHERE id = inst;
    IF i.id IS NULL THEN RAISE EXCEPTION 'InstrumentNotFound'; END IF;
    IF amount % i.increment <> 0 THEN RAISE EXCEPTION 'NotMultipleOfIncrement'; END IF;
    IF i.paused THEN RAISE EXCEPTION 'InstrumentPaused'; END IF;
    SELECT * INTO fo FROM participants WHERE id = fa.owner;
    SELECT * INTO tw FROM participants WHERE id = ta.owner;
    IF fa.frozen OR ta.frozen THEN RAISE EXCEPTION 'AccountFrozen'; END IF;
    IF fo.suspended OR tw.suspended THEN RAISE EXCEPTION 'HolderSuspended'; END IF;
    IF NOT fo.kyc_verified OR NOT tw.kyc_verified THEN RAISE EXCEPTION 'KycNotVerified'; END IF;
    SELECT balance - held - frozen INTO avail FROM holdings
        WHERE account = f AND instrument = inst FOR UPDATE;
    IF avail IS NULL OR avail < amount THEN RAISE EXCEPTION 'InsufficientBalance'; END IF;
    UPDATE holdings SET balance = balance - amount WHERE account = f AND instrument = inst;
    INSERT INTO holdings (account, instrument, balance) VALUES (t, inst, amount)
        ON CONFLICT (account, instrument) DO UPDATE SET balance = holdings.balance + amount;
END $$;

-- The acting owner's next nonce for a transaction debiting account `a`, used once and in
-- order (the row stays locked until the transaction commits).
CREATE OR REPLACE FUNCTION take_nonce(a bigint, OUT sender integer, OUT nonce bigint)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT owner INTO sender FROM accounts WHERE id = a;
    UPDATE nonces SET next = next + 1 WHERE nonces.sender = take_nonce.sender
        RETURNING next - 1 INTO nonce;
    IF nonce IS NULL THEN RAISE EXCEPTION 'UnknownSender'; END IF;
END $$;

-- A free-of-payment transfer by the debited account's owner.
CREATE OR REPLACE FUNCTION transfer(f bigint, t bigint, inst bigint, amount numeric)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    r := take_nonce(f);
    PERFORM move_units(f, t, inst, amount);
    INSERT INTO receipts (sender, nonce, code) VALUES (r.sender, r.nonce, 0);
END $$;

-- A DvP: the note from seller to buyer against cash from buyer to seller, both legs or
-- neither (one PostgreSQL transaction).
CREATE OR REPLACE FUNCTION dvp(seller bigint, buyer bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    r := take_nonce(seller);
    PERFORM move_units(seller, buyer, 2, 10000);
    PERFORM move_units(buyer, seller, 1, 9950);
    INSERT INTO receipts (sender, nonce, code) VALUES (r.sender, r.nonce, 0);
END $$;
