-- Statusbro schema, part 4: what the NAV (Aktivitetskort), STAR (WSB) and Helsenorge-style faces
-- need from storage.
--
-- * A case's party: the organisation or person whose case it is (a Swedish organisation number,
--   a NAV card's fødselsnummer/D-number, a STAR summons' CPR number), set when the case is created
--   and copied onto each of its feed entries when they are written, so "whose cases changed since
--   this offset" (/api/v1/changes/parties) reads the feed alone, and a later edit cannot rewrite
--   what a reader was told.
-- * Dead letters that know their case, so the dead letters of one case can be listed and erased.
-- * Erasure: NAV's kassering "overwrites all versions and history" of a card. Events are
--   append-only, so the overwrite is one narrow, audited path: statusbro_erase_case, the only
--   code that may rewrite an event, replaces the payloads of one case's events (and the requests
--   and dead letters of its messages) with a tombstone, and records who erased what and why in
--   case_erasures, which is itself append-only. What a status was, which code and rule version
--   made it, and when, stays: every status ever shown can still be explained.

-- 1. Parties -------------------------------------------------------------------------------------

ALTER TABLE cases ADD COLUMN party text;
CREATE INDEX cases_party ON cases (tenant_id, party, source_system) WHERE party IS NOT NULL;
ALTER TABLE feed_entries ADD COLUMN party text;

-- Cases and feed entries written before this migration get the party they would have had: the
-- case's organisation number. Feed entries refuse updates, so the guard is lifted for this one
-- statement of the migration (in its transaction, as the owner) and put back at once. Each tenant
-- is set in turn, so row-level security admits the rows whether or not the owner is a superuser.
ALTER TABLE feed_entries DISABLE TRIGGER feed_entries_immutable;
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT tenant_id FROM tenants ORDER BY tenant_id
    LOOP
        PERFORM set_config('statusbro.tenant', t.tenant_id, true);
        UPDATE cases SET party = organisation_number
         WHERE tenant_id = t.tenant_id AND organisation_number IS NOT NULL AND party IS NULL;
        UPDATE feed_entries AS f SET party = c.party
          FROM cases AS c
         WHERE f.tenant_id = t.tenant_id AND c.tenant_id = f.tenant_id AND c.case_id = f.case_id AND c.party IS NOT NULL;
    END LOOP;
    PERFORM set_config('statusbro.tenant', '', true);
END
$$;
ALTER TABLE feed_entries ENABLE TRIGGER feed_entries_immutable;
CREATE INDEX feed_entries_party ON feed_entries (tenant_id, party, position) WHERE party IS NOT NULL;

-- 2. Dead letters of a case; erased ones ---------------------------------------------------------

ALTER TABLE dead_letters ADD COLUMN external_case_id text;
CREATE INDEX dead_letters_case ON dead_letters (tenant_id, scope, external_case_id) WHERE external_case_id IS NOT NULL;
-- 'erased': the message's content was erased with its case (never replayed again).
ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_state_check;
ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_state_check CHECK (state IN ('pending', 'replayed', 'erased'));

-- 3. The ledger's writes carry the party, and park with the case ---------------------------------

ALTER TYPE statusbro_change ADD ATTRIBUTE party text;
ALTER TYPE statusbro_outcome ADD ATTRIBUTE o_party text;

-- As in 003_ingest.sql, with the party written on the case and on its feed entries, reported for
-- a stale case, and the case written on a dead letter.
CREATE OR REPLACE FUNCTION statusbro_apply(p_tenant text, p_changes statusbro_change[])
RETURNS SETOF statusbro_outcome
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_changes statusbro_change[] := p_changes;
    v_refused boolean := false;
BEGIN
    PERFORM set_config('statusbro.tenant', p_tenant, true);

    -- 1. Every case as the decisions saw it? Locked in the order of their external ids, so writers of
    --    the same cases cannot deadlock, and held to commit.
    RETURN QUERY
    WITH expected AS (
        SELECT DISTINCT ON (c.external_case_id) c.external_case_id, c.expected_revision
          FROM unnest(v_changes) AS c
         WHERE c.external_case_id IS NOT NULL
         ORDER BY c.external_case_id, c.ordinal
    )
    SELECT NULL::integer, 'stale', NULL::boolean, NULL::jsonb, NULL::uuid, e.external_case_id, k.case_id,
           k.flow_instance_id, k.case_type, k.organisation_number, k.source_system, k.raw_status, k.status, k.category,
           k.rule_version, k.last_status_change, k.created_at, k.withdrawn_at, k.revision, k.party
      FROM expected AS e
      LEFT JOIN LATERAL (
          SELECT * FROM cases
           WHERE cases.tenant_id = p_tenant AND cases.external_case_id = e.external_case_id
             FOR UPDATE
      ) AS k ON true
     WHERE e.expected_revision IS DISTINCT FROM k.revision;
    v_refused := FOUND;

    -- 2. No message accepted before? (A retry gets the first answer, or a conflict.)
    RETURN QUERY
    SELECT c.ordinal, 'replayed', i.request = c.payload, i.response, NULL::uuid, c.external_case_id,
           NULL::uuid, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL::integer, NULL::timestamptz, NULL::timestamptz,
           NULL::timestamptz, NULL::bigint, NULL
      FROM unnest(v_changes) AS c
     CROSS JOIN LATERAL (
          SELECT k.request, k.response FROM idempotency_keys AS k
           WHERE k.tenant_id = p_tenant AND k.scope = c.scope AND k.message_id = c.message_id
      ) AS i;
    v_refused := v_refused OR FOUND;
    IF v_refused THEN
        RETURN;
    END IF;

    -- 3. The cases: a new one is inserted in its last state, an existing one updated to it.
    INSERT INTO cases (tenant_id, case_id, external_case_id, flow_instance_id, case_type, organisation_number,
                       source_system, raw_status, status, category, rule_version, last_status_change, created_at,
                       updated_at, withdrawn_at, party)
    SELECT DISTINCT ON (c.external_case_id)
           p_tenant, c.case_id, c.external_case_id, c.flow_instance_id, c.case_type, c.organisation_number,
           c.source_system, c.raw_status, c.status, c.category, c.rule_version, to_timestamp(c.last_status_change),
           to_timestamp(c.created_at), now(), to_timestamp(c.withdrawn_at), c.party
      FROM unnest(v_changes) AS c
     WHERE c.kind = 'apply' AND c.case_written AND c.expected_revision IS NULL
     ORDER BY c.external_case_id, c.ordinal DESC;

    UPDATE cases AS k
       SET flow_instance_id = c.flow_instance_id, case_type = c.case_type, organisation_number = c.organisation_number,
           source_system = c.source_system, raw_status = c.raw_status, status = c.status, category = c.category,
           rule_version = c.rule_version, last_status_change = to_timestamp(c.last_status_change),
           withdrawn_at = to_timestamp(c.withdrawn_at), party = c.party,
           updated_at = now(), revision = k.revision + 1
      FROM (SELECT DISTINCT ON (c.external_case_id) c.*
              FROM unnest(v_changes) AS c
             WHERE c.kind = 'apply' AND c.case_written AND c.expected_revision IS NOT NULL
             ORDER BY c.external_case_id, c.ordinal DESC) AS c
     WHERE k.tenant_id = p_tenant AND k.external_case_id = c.external_case_id;

    -- 4. The history: every event, applied or not.
    INSERT INTO case_events (tenant_id, event_id, case_id, message_id, change_type, source_system, raw_status, status,
                             category, rule_version, applied, occurred_at, recorded_at, correlation_id, payload)
    SELECT p_tenant, c.event_id, c.case_id, c.message_id, c.change_type, c.source_system, c.raw_status, c.status,
           c.category, c.rule_version, c.case_written, to_timestamp(c.occurred_at), to_timestamp(c.recorded_at),
           c.correlation_id, c.payload
      FROM unnest(v_changes) AS c
     WHERE c.kind = 'apply'
     ORDER BY c.ordinal;

    -- 5. The feed, in the order of the changes, each entry with its case's party (see 003 for the
    --    positions).
    PERFORM pg_advisory_xact_lock_shared(statusbro_feed_lock_key(p_tenant));
    WITH entries AS (
        SELECT c.*, row_number() OVER (ORDER BY c.ordinal) AS n
          FROM unnest(v_changes) AS c
         WHERE c.kind = 'apply' AND c.feed_reason IS NOT NULL
    ), positions AS (
        SELECT p, row_number() OVER (ORDER BY p) AS n
          FROM (SELECT nextval('feed_position') AS p FROM entries) AS drawn
    )
    INSERT INTO feed_entries (tenant_id, position, case_id, external_case_id, status, category, reason, rule_version, party)
    SELECT p_tenant, positions.p, e.case_id, e.external_case_id,
           CASE WHEN e.feed_reason = 'delete' THEN NULL ELSE e.status END,
           CASE WHEN e.feed_reason = 'delete' THEN NULL ELSE e.category END,
           e.feed_reason, e.rule_version, e.party
      FROM entries AS e JOIN positions USING (n);

    -- 6. The answers, for retries.
    INSERT INTO idempotency_keys (tenant_id, scope, message_id, request, response)
    SELECT p_tenant, c.scope, c.message_id, c.payload, c.response
      FROM unnest(v_changes) AS c
     WHERE c.kind = 'apply' AND c.message_id IS NOT NULL;

    -- 7. The dead letters, with their case; a message still pending from an earlier attempt keeps
    --    its dead letter.
    RETURN QUERY
    WITH parked AS (
        INSERT INTO dead_letters AS d (tenant_id, dead_letter_id, scope, message_id, code, detail, payload, correlation_id,
                                       external_case_id)
        SELECT p_tenant, c.dead_letter_id, c.scope, c.message_id, c.code, c.detail, c.payload, c.correlation_id,
               c.external_case_id
          FROM unnest(v_changes) AS c
         WHERE c.kind = 'park'
         ORDER BY c.ordinal
        ON CONFLICT (tenant_id, scope, message_id) WHERE state = 'pending' AND message_id IS NOT NULL
        DO UPDATE SET code = EXCLUDED.code, detail = EXCLUDED.detail, payload = EXCLUDED.payload,
                      external_case_id = EXCLUDED.external_case_id
        RETURNING d.dead_letter_id, d.scope, d.message_id
    )
    SELECT c.ordinal, 'parked', NULL::boolean, NULL::jsonb, p.dead_letter_id, c.external_case_id,
           NULL::uuid, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL::integer, NULL::timestamptz, NULL::timestamptz,
           NULL::timestamptz, NULL::bigint, NULL
      FROM parked AS p
      JOIN unnest(v_changes) AS c
        ON c.kind = 'park' AND (c.dead_letter_id = p.dead_letter_id OR (c.scope = p.scope AND c.message_id = p.message_id));
END
$$;

-- As in 003_ingest.sql: apply, commit, then answer; with the party.
DROP PROCEDURE statusbro_record_changes;
CREATE PROCEDURE statusbro_record_changes(
    p_tenant text, p_changes json,
    OUT o_ordinal integer, OUT o_outcome text, OUT o_request_matches boolean, OUT o_response jsonb,
    OUT o_dead_letter_id uuid, OUT o_external_case_id text, OUT o_case_id uuid, OUT o_flow_instance_id text,
    OUT o_case_type text, OUT o_organisation_number text, OUT o_source_system text, OUT o_raw_status text,
    OUT o_status text, OUT o_category text, OUT o_rule_version integer, OUT o_last_status_change timestamptz,
    OUT o_created_at timestamptz, OUT o_withdrawn_at timestamptz, OUT o_revision bigint, OUT o_party text
)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT * INTO o_ordinal, o_outcome, o_request_matches, o_response, o_dead_letter_id, o_external_case_id, o_case_id,
                  o_flow_instance_id, o_case_type, o_organisation_number, o_source_system, o_raw_status, o_status,
                  o_category, o_rule_version, o_last_status_change, o_created_at, o_withdrawn_at, o_revision, o_party
      FROM statusbro_apply_changes(p_tenant, p_changes) AS r
     ORDER BY CASE r.o_outcome WHEN 'replayed' THEN 0 WHEN 'stale' THEN 1 ELSE 2 END
     LIMIT 1;
    COMMIT;
END
$$;

-- 4. Erasure -------------------------------------------------------------------------------------

-- One row per erasure, never changed: which case, by whom, why, on which message, and how many
-- stored versions lost their content. The party stays, so the person can still be told that the
-- case was erased, and the parties feed still names them.
CREATE TABLE case_erasures (
    tenant_id        text NOT NULL REFERENCES tenants (tenant_id),
    erasure_id       uuid NOT NULL,
    case_id          uuid NOT NULL,
    external_case_id text NOT NULL,
    scope            text NOT NULL,
    party            text,
    erased_by        text NOT NULL,
    reason           text,
    source_system    text NOT NULL,
    message_id       text,
    requested_at     timestamptz,
    correlation_id   text NOT NULL,
    rule_version     integer NOT NULL,
    kept_event_id    uuid NOT NULL,
    versions_erased  integer NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, erasure_id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, case_id)
);
CREATE INDEX case_erasures_case ON case_erasures (tenant_id, case_id, recorded_at);
SELECT statusbro_isolate_by_tenant(ARRAY['case_erasures']);
CREATE TRIGGER case_erasures_immutable BEFORE UPDATE OR DELETE ON case_erasures
    FOR EACH ROW EXECUTE FUNCTION statusbro_refuse_change();

-- Events stay append-only with one exception: while statusbro_erase_case runs for a case (it sets
-- statusbro.erasing to '<tenant>:<case_id>' for its own duration), that case's events may have
-- their payload, and nothing else, replaced by a tombstone. The service role has no UPDATE
-- privilege on case_events at all, so it can reach this exception only through that function.
CREATE FUNCTION statusbro_case_events_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('statusbro.erasing', true) = OLD.tenant_id || ':' || OLD.case_id::text
       AND to_jsonb(NEW) - 'payload' = to_jsonb(OLD) - 'payload'
       AND NEW.payload ? 'statusbro:erased' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
DROP TRIGGER case_events_immutable ON case_events;
CREATE TRIGGER case_events_immutable BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION statusbro_case_events_guard();

-- Erases one case of the current tenant and records that it did, in the caller's transaction:
--   * every event of the case but the erasing message's own (kept_event_id) gets the payload
--     {"statusbro:erased": <erasure id>};
--   * the stored request of each of those events' messages (in the erasure's scope) becomes
--     {"statusbro:erased": …, "sha256": …}, with the SHA-256 the core computed of the request, so a
--     retry of an old message is still told apart from a new body under its id (p_digests:
--     {"<message id>": "<hex>"}; a message id that is not one of the case's events is ignored);
--   * the case's dead letters in the scope get the tombstone too and the state 'erased'.
-- The tenant is the transaction's own (statusbro.tenant), never a parameter, and row-level
-- security still applies to the owner it runs as. Returns the number of events erased.
CREATE FUNCTION statusbro_erase_case(p_erasure json, p_digests json) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_tenant  text := current_setting('statusbro.tenant', true);
    v_erasure case_erasures;
    v_case    cases;
    v_count   integer;
BEGIN
    IF v_tenant IS NULL OR v_tenant = '' THEN
        RAISE EXCEPTION 'statusbro_erase_case needs a tenant' USING ERRCODE = 'insufficient_privilege';
    END IF;
    v_erasure := json_populate_record(NULL::case_erasures, p_erasure);
    SELECT * INTO v_case FROM cases WHERE tenant_id = v_tenant AND case_id = v_erasure.case_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such case' USING ERRCODE = 'no_data_found';
    END IF;

    PERFORM set_config('statusbro.erasing', v_tenant || ':' || v_case.case_id::text, true);
    UPDATE case_events
       SET payload = jsonb_build_object('statusbro:erased', v_erasure.erasure_id)
     WHERE tenant_id = v_tenant AND case_id = v_case.case_id AND event_id <> v_erasure.kept_event_id
       AND NOT payload ? 'statusbro:erased';
    GET DIAGNOSTICS v_count = ROW_COUNT;
    PERFORM set_config('statusbro.erasing', '', true);

    UPDATE idempotency_keys AS i
       SET request = jsonb_build_object('statusbro:erased', v_erasure.erasure_id, 'sha256', d.value)
      FROM json_each_text(p_digests) AS d
     WHERE i.tenant_id = v_tenant AND i.scope = v_erasure.scope AND i.message_id = d.key
       AND NOT i.request ? 'statusbro:erased'
       AND EXISTS (SELECT 1 FROM case_events AS e
                    WHERE e.tenant_id = v_tenant AND e.case_id = v_case.case_id AND e.message_id = d.key
                      AND e.event_id <> v_erasure.kept_event_id);

    UPDATE dead_letters
       SET payload = jsonb_build_object('statusbro:erased', v_erasure.erasure_id), state = 'erased'
     WHERE tenant_id = v_tenant AND scope = v_erasure.scope AND external_case_id = v_case.external_case_id
       AND state <> 'erased';

    INSERT INTO case_erasures (tenant_id, erasure_id, case_id, external_case_id, scope, party, erased_by, reason,
                               source_system, message_id, requested_at, correlation_id, rule_version, kept_event_id,
                               versions_erased)
    VALUES (v_tenant, v_erasure.erasure_id, v_case.case_id, v_case.external_case_id, v_erasure.scope, v_case.party,
            v_erasure.erased_by, v_erasure.reason, v_erasure.source_system, v_erasure.message_id,
            v_erasure.requested_at, v_erasure.correlation_id, v_erasure.rule_version, v_erasure.kept_event_id, v_count);
    RETURN v_count;
END
$$;
REVOKE EXECUTE ON FUNCTION statusbro_erase_case(json, json) FROM PUBLIC;

GRANT SELECT ON case_erasures TO statusbro_app;
GRANT EXECUTE ON FUNCTION statusbro_erase_case(json, json) TO statusbro_app;
