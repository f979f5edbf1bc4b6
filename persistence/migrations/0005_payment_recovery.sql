-- 0005: nothing paid is lost.

-- What the gateway sends is stored as it comes. Its fields had fixed lengths (varchar(n)), so one
-- over-long value from the validation API made a payment unrecordable (every retry a 500, and the
-- order expired). text has no length; varchar(n) → text rewrites nothing.
ALTER TABLE payments
  ALTER COLUMN val_id TYPE text,
  ALTER COLUMN tran_id TYPE text,
  ALTER COLUMN gateway_status TYPE text,
  ALTER COLUMN currency TYPE text,
  ALTER COLUMN bank_tran_id TYPE text,
  ALTER COLUMN card_type TYPE text,
  ALTER COLUMN card_no TYPE text,
  ALTER COLUMN card_brand TYPE text,
  ALTER COLUMN tran_date TYPE text,
  ALTER COLUMN risk_title TYPE text;

-- A payment found by asking the gateway (the transaction query), not by a notification.
ALTER TABLE payments DROP CONSTRAINT payments_source_check,
  ADD CONSTRAINT payments_source_check CHECK (source IN ('ipn', 'redirect', 'reconcile'));

-- When to ask the gateway about an order whose payment may have happened: set when a VALID
-- notification could not be validated (the gateway does not promise to send it again), when an
-- expired order's payment is still in progress at the gateway (postponed, up to
-- ORDER_PAYMENT_GRACE past expires_at), and for an order a FAILED attempt failed (at its expiry:
-- did the customer try again and pay?). The expiry sweep asks the gateway about every expired
-- order that had a session before it cancels it.
ALTER TABLE orders ADD COLUMN gateway_check_at timestamptz,
  ADD COLUMN gateway_checks integer NOT NULL DEFAULT 0;
CREATE INDEX orders_gateway_check_idx ON orders (gateway_check_at)
  WHERE gateway_check_at IS NOT NULL;

-- The order lifecycle, as in 0004, plus failed → paid: a session can see a FAILED attempt and then
-- a VALID one (the customer tried again); the VALID payment then books the order again if a unit
-- is still free (the statement that does it takes the unit in the same transaction).
CREATE OR REPLACE FUNCTION ml_order_status_change() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = OLD.status THEN
    RETURN NEW;
  END IF;
  IF NOT ((OLD.status = 'pending' AND NEW.status IN ('paid', 'failed', 'cancelled'))
          OR (OLD.status = 'failed' AND NEW.status = 'paid')
          OR (OLD.status = 'paid' AND NEW.status = 'processing')
          OR (OLD.status = 'processing' AND NEW.status = 'completed')) THEN
    RAISE EXCEPTION 'order % cannot go from % to %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'ML004';
  END IF;
  INSERT INTO order_events (order_id, from_status, to_status, changed_by)
  VALUES (NEW.id, OLD.status, NEW.status, coalesce(NEW.status_by, 'system'));
  RETURN NEW;
END $$;
