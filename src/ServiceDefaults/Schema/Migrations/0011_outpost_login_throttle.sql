-- Failed password sign-ins, per account (tenant and username) and per address, so that guessing slows down and then
-- stops: a row is a key (account:<tenant>/<username> or address:<ip>), its consecutive failures and until when it is
-- locked. Kept in PostgreSQL so every gateway sees the same count and an admin can clear a lockout from the CLI.

CREATE TABLE IF NOT EXISTS outpost_login_throttle
(
    throttle_key text        NOT NULL,
    failures     integer     NOT NULL,
    locked_until timestamptz NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_outpost_login_throttle PRIMARY KEY (throttle_key),
    CONSTRAINT ck_outpost_login_throttle_failures CHECK (failures >= 0)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'outpost_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON outpost_login_throttle TO outpost_app;
    END IF;
END
$$;
