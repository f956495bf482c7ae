-- Statistics read clear categories only. stat_dim() gives the value(s) of
-- one whitelisted dimension of a case, so that one prepared statement can
-- group by any one to three of them (no SQL is ever built from a request).

CREATE FUNCTION stat_dim(c cases, dim text) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT CASE dim
	    WHEN 'sex' THEN ARRAY[coalesce(c.sex, 'unknown')]
	    WHEN 'age_band' THEN ARRAY[c.age_band]
	    WHEN 'nationality' THEN ARRAY[coalesce(c.nationality, 'unknown')]
	    WHEN 'region' THEN ARRAY[coalesce(c.region, 'unknown')]
	    WHEN 'stage' THEN ARRAY[c.stage]
	    WHEN 'justice_status' THEN ARRAY[c.justice_status]
	    WHEN 'identifying_kind' THEN ARRAY[c.identifying_kind]
	    WHEN 'child' THEN ARRAY[CASE WHEN c.is_child THEN 'child'
	        ELSE 'adult' END]
	    WHEN 'year' THEN ARRAY[to_char(coalesce(c.identified_on,
	        (c.opened_at AT TIME ZONE 'UTC')::date), 'YYYY')]
	    WHEN 'month' THEN ARRAY[to_char(coalesce(c.identified_on,
	        (c.opened_at AT TIME ZONE 'UTC')::date), 'YYYY-MM')]
	    WHEN 'exploitation_type' THEN CASE
	        WHEN cardinality(c.exploitation_types) = 0
	        THEN ARRAY['unknown'] ELSE c.exploitation_types END
	    WHEN 'referral_service' THEN coalesce((SELECT array_agg(DISTINCT
	        r.service) FROM referrals r WHERE r.case_id = c.id),
	        ARRAY['none'])
	    ELSE ARRAY[NULL::text] END
$$;

-- The day a case counts in statistics: its identification, else its opening.
CREATE INDEX cases_stat_day_idx ON cases
    ((coalesce(identified_on, (opened_at AT TIME ZONE 'UTC')::date)));
