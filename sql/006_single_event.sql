-- Statusbro schema, part 6: one event without the batch machinery.
--
-- statusbro_apply (004) is written for batches: each of its statements runs over unnest() of the
-- change array with DISTINCT ON, window functions and sorts, so called with one change it spends
-- most of its time setting those statements up (bench/NOTES.md: 0.54 ms of database CPU against
-- 0.17 ms for the same writes as one-row statements). statusbro_record_changes, below, sends a
-- call of exactly one 'apply' change here and everything else to the batch function. The writes,
-- their order, the locks and the answers are those of statusbro_apply for that one change: the
-- case locked and checked against the revision the decision saw, the message id checked, then the
-- case, its event, its feed entry (under the tenant's feed lock, shared) and the idempotency record.

CREATE FUNCTION statusbro_apply_one(p_tenant text, c statusbro_change)
RETURNS SETOF statusbro_outcome
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k cases%ROWTYPE;
    v_refused boolean := false;
BEGIN
    PERFORM set_config('statusbro.tenant', p_tenant, true);

    -- 1. The case as the decision saw it? Locked to commit.
    IF c.external_case_id IS NOT NULL THEN
        SELECT * INTO k FROM cases WHERE tenant_id = p_tenant AND external_case_id = c.external_case_id FOR UPDATE;
        IF c.expected_revision IS DISTINCT FROM k.revision THEN
            RETURN QUERY SELECT NULL::integer, 'stale', NULL::boolean, NULL::jsonb, NULL::uuid, c.external_case_id,
                   k.case_id, k.flow_instance_id, k.case_type, k.organisation_number, k.source_system, k.raw_status,
                   k.status, k.category, k.rule_version, k.last_status_change, k.created_at, k.withdrawn_at, k.revision,
                   k.party;
            v_refused := true;
        END IF;
    END IF;

    -- 2. No message accepted before?
    RETURN QUERY
    SELECT c.ordinal, 'replayed', i.request = c.payload, i.response, NULL::uuid, c.external_case_id,
           NULL::uuid, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL::integer, NULL::timestamptz, NULL::timestamptz,
           NULL::timestamptz, NULL::bigint, NULL
      FROM idempotency_keys AS i
     WHERE i.tenant_id = p_tenant AND i.scope = c.scope AND i.message_id = c.message_id;
    v_refused := v_refused OR FOUND;
    IF v_refused THEN
        RETURN;
    END IF;

    -- 3. The case.
    IF c.case_written AND c.expected_revision IS NULL THEN
        INSERT INTO cases (tenant_id, case_id, external_case_id, flow_instance_id, case_type, organisation_number,
                           source_system, raw_status, status, category, rule_version, last_status_change, created_at,
                           updated_at, withdrawn_at, party)
        VALUES (p_tenant, c.case_id, c.external_case_id, c.flow_instance_id, c.case_type, c.organisation_number,
                c.source_system, c.raw_status, c.status, c.category, c.rule_version, to_timestamp(c.last_status_change),
                to_timestamp(c.created_at), now(), to_timestamp(c.withdrawn_at), c.party);
    ELSIF c.case_written THEN
        UPDATE cases
           SET flow_instance_id = c.flow_instance_id, case_type = c.case_type, organisation_number = c.organisation_number,
               source_system = c.source_system, raw_status = c.raw_status, status = c.status, category = c.category,
               rule_version = c.rule_version, last_status_change = to_timestamp(c.last_status_change),
               withdrawn_at = to_timestamp(c.withdrawn_at), party = c.party,
               updated_at = now(), revision = revision + 1
         WHERE tenant_id = p_tenant AND external_case_id = c.external_case_id;
    END IF;

    -- 4. The history.
    INSERT INTO case_events (tenant_id, event_id, case_id, message_id, change_type, source_system, raw_status, status,
                             category, rule_version, applied, occurred_at, recorded_at, correlation_id, payload)
    VALUES (p_tenant, c.event_id, c.case_id, c.message_id, c.change_type, c.source_system, c.raw_status, c.status,
            c.category, c.rule_version, c.case_written, to_timestamp(c.occurred_at), to_timestamp(c.recorded_at),
            c.correlation_id, c.payload);

    -- 5. The feed (see 001 for the positions).
    IF c.feed_reason IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock_shared(statusbro_feed_lock_key(p_tenant));
        INSERT INTO feed_entries (tenant_id, position, case_id, external_case_id, status, category, reason, rule_version, party)
        VALUES (p_tenant, nextval('feed_position'), c.case_id, c.external_case_id,
                CASE WHEN c.feed_reason = 'delete' THEN NULL ELSE c.status END,
                CASE WHEN c.feed_reason = 'delete' THEN NULL ELSE c.category END,
                c.feed_reason, c.rule_version, c.party);
    END IF;

    -- 6. The answer, for retries.
    IF c.message_id IS NOT NULL THEN
        INSERT INTO idempotency_keys (tenant_id, scope, message_id, request, response)
        VALUES (p_tenant, c.scope, c.message_id, c.payload, c.response);
    END IF;
END
$$;

-- statusbro_record_changes (004) again, choosing: a call of exactly one 'apply' change goes to
-- statusbro_apply_one, everything else to the batch function; apply, commit, then answer as before.
-- (The branch not taken is never run: its condition is a one-time filter on a constant.)
CREATE OR REPLACE PROCEDURE statusbro_record_changes(
    p_tenant text, p_changes json,
    OUT o_ordinal integer, OUT o_outcome text, OUT o_request_matches boolean, OUT o_response jsonb,
    OUT o_dead_letter_id uuid, OUT o_external_case_id text, OUT o_case_id uuid, OUT o_flow_instance_id text,
    OUT o_case_type text, OUT o_organisation_number text, OUT o_source_system text, OUT o_raw_status text,
    OUT o_status text, OUT o_category text, OUT o_rule_version integer, OUT o_last_status_change timestamptz,
    OUT o_created_at timestamptz, OUT o_withdrawn_at timestamptz, OUT o_revision bigint, OUT o_party text
)
LANGUAGE plpgsql AS $$
DECLARE
    v_one boolean := json_array_length(p_changes) = 1 AND p_changes -> 0 ->> 'kind' = 'apply';
BEGIN
    SELECT * INTO o_ordinal, o_outcome, o_request_matches, o_response, o_dead_letter_id, o_external_case_id, o_case_id,
                  o_flow_instance_id, o_case_type, o_organisation_number, o_source_system, o_raw_status, o_status,
                  o_category, o_rule_version, o_last_status_change, o_created_at, o_withdrawn_at, o_revision, o_party
      FROM (SELECT * FROM statusbro_apply_one(p_tenant, json_populate_record(NULL::statusbro_change, p_changes -> 0))
             WHERE v_one
            UNION ALL
            SELECT * FROM statusbro_apply_changes(p_tenant, p_changes)
             WHERE NOT v_one) AS r
     ORDER BY CASE r.o_outcome WHEN 'replayed' THEN 0 WHEN 'stale' THEN 1 ELSE 2 END
     LIMIT 1;
    COMMIT;
END
$$;
