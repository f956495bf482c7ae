-- Cases erased before erasure kept only what statistics read: the same
-- clean-up now (server/cases/cases.c, "case_erase"). The copies of clear
-- fields keep sex, nationality, region and forms of exploitation; languages,
-- indicators and urgent needs go; the identification date becomes the first
-- day of its month and the age estimate the lower bound of the case's age
-- band, so that statistics count these cases in the same cells as before.

UPDATE cases SET
	identified_on = date_trunc('month', identified_on)::date,
	clear = (SELECT coalesce(jsonb_object_agg(e.k, e.v), '{}')
	    FROM jsonb_each(cases.clear) AS e(k, v) WHERE e.k IN ('victim.sex',
	    'victim.nationality', 'identification.region',
	    'identification.exploitation_types')) ||
	    CASE WHEN cases.clear ? 'identification.date' AND
	        identified_on IS NOT NULL THEN jsonb_build_object(
	        'identification.date', to_char(date_trunc('month',
	        identified_on), 'YYYY-MM-DD')) ELSE '{}' END ||
	    CASE WHEN cases.clear ? 'victim.age_estimate' AND
	        substring(age_band FROM '^[0-9]+') IS NOT NULL THEN
	        jsonb_build_object('victim.age_estimate',
	        substring(age_band FROM '^[0-9]+')::int) ELSE '{}' END
WHERE erased_at IS NOT NULL;
