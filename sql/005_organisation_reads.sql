-- The Swedish `statuses` read (every live case of an organisation) in one round trip, as
-- statusbro_case does for one case: it sets the tenant for its own implicit transaction and reads
-- under row-level security. Only ever called outside a transaction.
CREATE FUNCTION statusbro_cases_of_organisation(p_tenant text, p_organisation_number text) RETURNS SETOF cases
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('statusbro.tenant', p_tenant, true);
    RETURN QUERY SELECT * FROM cases
     WHERE tenant_id = p_tenant AND organisation_number = p_organisation_number AND withdrawn_at IS NULL
     ORDER BY last_status_change DESC, external_case_id;
END
$$;
