-- 0005: what the gateway sends is stored as it comes. Its fields had fixed lengths (varchar(n)),
-- so one over-long value from the validation API made a payment unrecordable (every retry a
-- 500, and the order expired). text has no length; varchar(n) → text rewrites nothing.
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
