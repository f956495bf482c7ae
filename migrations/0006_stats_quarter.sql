-- Statistics: every answer covers one calendar year (stats.c), so detail
-- within the year comes from the month and quarter dimensions. stat_dim()
-- as in 0004, with 'quarter' (YYYY-Qn) added.

CREATE OR REPLACE FUNCTION stat_dim(c cases, dim text) RETURNS text[]
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
	    WHEN 'quarter' THEN ARRAY[to_char(coalesce(c.identified_on,
	        (c.opened_at AT TIME ZONE 'UTC')::date), 'YYYY-"Q"Q')]
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
