-- Role inheritance as data: a member may do what any lower rank may do.
CREATE OR REPLACE FUNCTION member_role_rank(role text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE role
        WHEN 'owner' THEN 5 WHEN 'admin' THEN 4 WHEN 'member' THEN 3
        WHEN 'agent' THEN 2 WHEN 'viewer' THEN 1 END
$$;
