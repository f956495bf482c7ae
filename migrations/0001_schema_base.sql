-- Passerelle's first migration: settings the later ones rely on.
-- Migrations are append-only: never edit an applied file, add a new one.

-- gen_random_uuid() is built in since PostgreSQL 13; pgcrypto is not needed.
CREATE SCHEMA IF NOT EXISTS passerelle;
COMMENT ON SCHEMA passerelle IS 'reserved for Passerelle helper functions';
