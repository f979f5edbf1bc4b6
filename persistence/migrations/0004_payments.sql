-- 0004: payments, order history, the outbox of after-payment jobs, invoices.

-- Who made the order's latest status change: a user id, or 'gateway', 'system:expiry',
-- 'system:workflow'. Every statement that changes the status sets it; the trigger below copies it
-- into order_events.
ALTER TABLE orders ADD COLUMN status_by text;

CREATE TABLE order_events (
  id           bigserial PRIMARY KEY,
  order_id     uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  from_status  varchar(20) NOT NULL,
  to_status    varchar(20) NOT NULL,
  changed_by   text NOT NULL,
  at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_events_order_idx ON order_events (order_id, id);

-- The order lifecycle, enforced whatever path writes the row:
-- pending → paid | failed | cancelled; paid → processing; processing → completed.
CREATE FUNCTION ml_order_status_change() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = OLD.status THEN
    RETURN NEW;
  END IF;
  IF NOT ((OLD.status = 'pending' AND NEW.status IN ('paid', 'failed', 'cancelled'))
          OR (OLD.status = 'paid' AND NEW.status = 'processing')
          OR (OLD.status = 'processing' AND NEW.status = 'completed')) THEN
    RAISE EXCEPTION 'order % cannot go from % to %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'ML004';
  END IF;
  INSERT INTO order_events (order_id, from_status, to_status, changed_by)
  VALUES (NEW.id, OLD.status, NEW.status, coalesce(NEW.status_by, 'system'));
  RETURN NEW;
END $$;
CREATE TRIGGER orders_status_change BEFORE UPDATE OF status ON orders
  FOR EACH ROW EXECUTE FUNCTION ml_order_status_change();

-- At most one payment per order and per gateway validation id. `state` confirmed: the order was
-- paid by it; needs_refund: the money arrived for an order that was no longer pending, or with the
-- wrong amount or currency (the order was failed), so an operator must refund it.
CREATE TABLE payments (
  id              bigserial PRIMARY KEY,
  order_id        uuid NOT NULL UNIQUE REFERENCES orders (id) ON DELETE RESTRICT,
  val_id          varchar(100) NOT NULL UNIQUE,
  tran_id         varchar(100) NOT NULL,
  state           varchar(20) NOT NULL CHECK (state IN ('confirmed', 'needs_refund')),
  reason          text NOT NULL DEFAULT '',
  gateway_status  varchar(20) NOT NULL,
  amount          numeric,
  store_amount    numeric,
  currency        varchar(10) NOT NULL DEFAULT '',
  bank_tran_id    varchar(100) NOT NULL DEFAULT '',
  card_type       varchar(100) NOT NULL DEFAULT '',
  card_no         varchar(100) NOT NULL DEFAULT '',
  card_brand      varchar(100) NOT NULL DEFAULT '',
  tran_date       varchar(30) NOT NULL DEFAULT '',
  risk_level      smallint NOT NULL DEFAULT 0,
  risk_title      varchar(100) NOT NULL DEFAULT '',
  needs_review    boolean NOT NULL DEFAULT false,
  source          varchar(10) NOT NULL CHECK (source IN ('ipn', 'redirect')),
  validation      json NOT NULL,  -- the validation API's answer as received (checked, not parsed)
  created_at      timestamptz NOT NULL DEFAULT now()
);
-- The console's "needs review or refund" list.
CREATE INDEX payments_attention_idx ON payments (created_at DESC)
  WHERE needs_review OR state = 'needs_refund';

-- Jobs that must happen after a payment commits, written in the same transaction. The outbox
-- worker claims due jobs with a lease (next_attempt_at moves forward), runs them, and marks them
-- done, or schedules a retry with back-off, or gives up ('dead') after OUTBOX_MAX_ATTEMPTS.
CREATE TABLE outbox (
  id               bigserial PRIMARY KEY,
  kind             varchar(20) NOT NULL CHECK (kind IN ('invoice', 'workflow_start')),
  order_id         uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  state            varchar(10) NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_error       text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now(),
  done_at          timestamptz,
  UNIQUE (kind, order_id)
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE state = 'pending';

CREATE TABLE invoices (
  order_id    uuid PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
  number      varchar(32) NOT NULL UNIQUE,
  pdf         bytea NOT NULL,
  sha256      char(64) NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
