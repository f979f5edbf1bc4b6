-- 0003: orders and idempotency keys.

CREATE TABLE orders (
  id            uuid PRIMARY KEY,
  customer_id   uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  vendor_id     uuid NOT NULL REFERENCES vendor_profiles (id) ON DELETE RESTRICT,
  variant_id    bigint NOT NULL REFERENCES service_variants (id) ON DELETE RESTRICT,
  status        varchar(20) NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'paid', 'processing', 'completed', 'failed', 'cancelled')),
  total_amount  numeric(12, 2) NOT NULL CHECK (total_amount > 0),
  payment_url   text,
  session_key   text,
  expires_at    timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- A customer's list, newest first; a vendor's list; the expiry sweep over pending orders only.
CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at DESC, id);
CREATE INDEX orders_vendor_created_idx ON orders (vendor_id, created_at DESC, id);
CREATE INDEX orders_created_idx ON orders (created_at DESC, id);
CREATE INDEX orders_pending_expiry_idx ON orders (expires_at) WHERE status = 'pending';
CREATE INDEX orders_variant_idx ON orders (variant_id);

-- Idempotency-Key: the first response to (customer, key) is kept for 24 hours and replayed.
-- response_status NULL means the first request is still being processed.
CREATE TABLE idempotency_keys (
  customer_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key              varchar(255) NOT NULL,
  request_hash     text NOT NULL,
  response_status  integer,
  response_body    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
