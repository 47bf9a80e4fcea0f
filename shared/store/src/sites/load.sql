-- Everything a batch of site builds reads, in one statement and therefore one snapshot: the
-- agent, its config with the site_revision the build is of, the workspace's region and the
-- visible listings as a JSON array (prices as numeric text, so no float ever touches them).
-- Scoped by the job's workspace: a job naming another workspace's agent finds nothing.
-- $1 agent ids, $2 their workspace ids (pairwise).
SELECT a.id AS agent_id,
       a.name,
       a.email,
       a.phone_e164,
       w.default_region,
       c.site_slug,
       c.bio,
       c.languages,
       c.areas,
       c.theme,
       c.branding,
       c.cta,
       c.site_revision,
       -- The newest version was built from exactly this input: nothing to build.
       coalesce((
           SELECT d.site_revision = c.site_revision
           FROM agent_site_documents d
           WHERE d.agent_id = a.id
           ORDER BY d.version DESC
           LIMIT 1
       ), false) AS up_to_date,
       coalesce((
           SELECT jsonb_agg(jsonb_build_object(
                      'id', l.id,
                      'title', l.title,
                      'status', l.status,
                      'price', l.price::text,
                      'currency', l.currency,
                      'bedrooms', l.bedrooms,
                      'bathrooms', l.bathrooms::text,
                      'area_sqm', l.area_sqm::text,
                      'address', l.address,
                      'photos', l.photos,
                      'url', l.url,
                      'listed_at', l.created_at)
                  ORDER BY l.created_at DESC, l.id)
           FROM property_listings l
           WHERE l.agent_id = a.id
             AND l.workspace_id = a.workspace_id
             AND l.status IN ('active', 'under_offer')
       ), '[]'::jsonb) AS listings
FROM unnest($1::uuid[], $2::uuid[]) AS job (agent_id, workspace_id)
JOIN agents a ON a.id = job.agent_id AND a.workspace_id = job.workspace_id
JOIN workspaces w ON w.id = a.workspace_id
LEFT JOIN agent_configs c ON c.agent_id = a.id
