-- 0006: what the abuse limits read.

-- Login compares emails by one canonical form, ASCII letters folded and every other byte kept
-- (lower() under the "C" collation), the same form the login lock's Redis key is built from: the
-- locale-dependent lower() folded 'İ' (U+0130) and the Kelvin sign to ASCII, so 'admİn@…' reached
-- the account behind a lock counter of its own. Registration keeps the stricter unique index on
-- lower(email), so two accounts can never share this form either.
CREATE INDEX users_email_ascii_lower_idx ON users (lower(email COLLATE "C"));

-- ORDER_PENDING_PER_CUSTOMER counts a customer's unpaid orders on every order placed.
CREATE INDEX orders_pending_customer_idx ON orders (customer_id) WHERE status = 'pending';
