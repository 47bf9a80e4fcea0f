-- Time-ordered primary keys (UUID version 7, RFC 9562) instead of random ones (version 4).
--
-- Why: a random key sends every insert into its primary-key B-tree to a random leaf page, so a
-- statement that writes many rows touches pages all over the index, and an UPDATE that cannot be
-- HOT (marking tasks overdue changes status, which the partial indexes on tasks depend on) adds
-- the new row version's key at a random place too. With keys that grow with time, rows written
-- together sit together in the index, in the same order as in the table. Measured with
-- `cargo bench -p scheduled --bench jobs` data (1 M tasks, 600,000 due, 2 cores under load):
-- overdue_tasks took 13.7-14.7 s with random task ids and 8.7-9.3 s with time-ordered ones.
-- The ingest tables (conversations, webhook_events, leads, …) get the same locality.
--
-- The layout: 48 bits of Unix time in milliseconds, then the version (7), then 74 random bits
-- (with the RFC variant), so keys stay unguessable; what they reveal is the millisecond a row
-- was created, which created_at already says. PostgreSQL 15 has no uuidv7() (18 has), hence
-- this function: gen_random_uuid()'s bytes with the timestamp written over the first six and
-- the version nibble changed from 4 to 7 (bits 52 and 53 of the bytea, counted from the least
-- significant bit of its first byte). A SQL function, so a column default inlines it. It is
-- defined here rather than among the SQL sources (shared/store/src/**/*.sql) because the column
-- defaults below need it while migrating, before the sources are applied; it has no reason to
-- change (a new layout would be a new function and a new migration).
-- Existing rows keep their ids; only new rows get ordered ones.
CREATE FUNCTION uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$;

DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT table_name, column_name
        FROM information_schema.columns
        WHERE table_schema = 'public' AND column_default = 'gen_random_uuid()'
        ORDER BY table_name
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET DEFAULT uuid_v7()',
                       c.table_name, c.column_name);
    END LOOP;
END;
$$;
