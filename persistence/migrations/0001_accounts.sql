-- 0001: accounts, vendor profiles, refresh tokens, audit log.

-- ISO-8601 with the session's offset, as the original renders datetimes ("2026-01-12T10:00:00.123456+06:00").
CREATE FUNCTION ml_iso(ts timestamptz) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SS.US') || to_char(ts, 'TZH:TZM') $$;

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         varchar(254) NOT NULL,
  password      text NOT NULL,
  first_name    varchar(150) NOT NULL DEFAULT '',
  last_name     varchar(150) NOT NULL DEFAULT '',
  role          varchar(20) NOT NULL CHECK (role IN ('customer', 'vendor', 'admin')),
  is_active     boolean NOT NULL DEFAULT true,
  is_staff      boolean NOT NULL DEFAULT false,
  is_superuser  boolean NOT NULL DEFAULT false,
  last_login    timestamptz,
  date_joined   timestamptz NOT NULL DEFAULT now()
);
-- Emails are unique case-insensitively; login looks them up through the same expression.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
-- The admin user list filters by role and pages newest first.
CREATE INDEX users_role_joined_idx ON users (role, date_joined DESC);
CREATE INDEX users_joined_idx ON users (date_joined DESC);

CREATE TABLE vendor_profiles (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id        uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE RESTRICT,
  business_name  varchar(255) NOT NULL DEFAULT '',
  address        text NOT NULL DEFAULT '',
  is_active      boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vendor_profiles_active_created_idx ON vendor_profiles (is_active, created_at DESC);

-- A vendor profile belongs to a user whose role is vendor, whatever path writes it.
CREATE FUNCTION ml_vendor_profile_user_is_vendor() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id AND role = 'vendor') THEN
    RAISE EXCEPTION 'a vendor profile needs a user with role vendor' USING ERRCODE = 'ML001';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER vendor_profiles_user_is_vendor
  BEFORE INSERT OR UPDATE OF user_id ON vendor_profiles
  FOR EACH ROW EXECUTE FUNCTION ml_vendor_profile_user_is_vendor();

-- One row per issued refresh token. A token is used once (used_at); reuse of a used token
-- revokes its whole family (every token descended from the same login).
CREATE TABLE refresh_tokens (
  jti         uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id   uuid NOT NULL,
  issued_at   timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Who changed what through an admin action.
CREATE TABLE audit_log (
  id         bigserial PRIMARY KEY,
  actor_id   uuid REFERENCES users (id) ON DELETE SET NULL,
  action     text NOT NULL,
  target     text NOT NULL,
  result     text NOT NULL,
  at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
