-- Statusbro schema, part 3: ingestion at the database's own speed, and start-up in one query.
--
-- The core decides what each message does (the mapping, the transition rules, whether an older
-- event is applied) against the case as it last saw it. statusbro_apply writes those
-- decisions in one statement: the case projections, the events, the feed entries, the
-- idempotency records and the dead letters. It writes only if every case is still at the revision
-- the decisions were made on and no message among them was accepted meanwhile; otherwise it
-- writes nothing and reports what is different, and the core decides again with what it learnt.
--
-- One event is one round trip: CALL statusbro_record_changes binds the tenant, applies and commits
-- before it answers, so an answer is only ever given for a durable commit. A backfill chunk of
-- thousands of events is one call inside a transaction that locked its cases first.

-- Bumped by every write of a case: what the core's decisions are checked against.
ALTER TABLE cases ADD COLUMN revision bigint NOT NULL DEFAULT 0;

-- The tables every event writes keep no foreign keys. A key to `tenants` makes every insert lock
-- the tenant's one row (FOR KEY SHARE): with many concurrent writers of a tenant that is a new
-- MultiXact on that row for nearly every transaction, and a lookup per inserted row. The event's
-- key to its case is checked the same way, row by row. Both cost about a third of an event's time
-- in the database (measured: bench/NOTES.md). What they guarded is kept otherwise: rows are only
-- ever written by statusbro_apply below, which writes a case before its events, under a tenant
-- whose rules are loaded (so it exists); row-level security still confines every row to its tenant;
-- and the system tests check that every event's case exists.
ALTER TABLE cases DROP CONSTRAINT cases_tenant_id_fkey;
ALTER TABLE case_events DROP CONSTRAINT case_events_tenant_id_fkey;
ALTER TABLE case_events DROP CONSTRAINT case_events_tenant_id_case_id_fkey;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_tenant_id_fkey;
ALTER TABLE feed_entries DROP CONSTRAINT feed_entries_tenant_id_fkey;
ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_tenant_id_fkey;

-- A writer that takes the tenant's feed lock (shared) itself and brings its positions skips the
-- trigger: statusbro_apply numbers a whole batch's entries in one statement.
DROP TRIGGER feed_entries_position ON feed_entries;
CREATE TRIGGER feed_entries_position BEFORE INSERT ON feed_entries
    FOR EACH ROW WHEN (NEW.position IS NULL) EXECUTE FUNCTION statusbro_feed_position();

-- One decided message, as the core sends it (a JSON array of objects with these keys). Instants
-- are seconds since the epoch (float8: microseconds survive at these magnitudes).
CREATE TYPE statusbro_change AS (
    ordinal             integer,     -- the message's position in the call
    kind                text,        -- 'apply' or 'park'
    scope               text,
    message_id          text,
    payload             jsonb,       -- the message as received
    correlation_id      text,
    external_case_id    text,
    expected_revision   bigint,      -- the revision the decision saw; NULL: the case did not exist
    -- 'apply': the case after this change, its event and feed entry, and the answer to store
    case_id             uuid,
    case_written        boolean,     -- false for an older event: recorded, not applied
    flow_instance_id    text,
    case_type           text,
    organisation_number text,
    source_system       text,
    raw_status          text,
    status              text,
    category            text,
    rule_version        integer,
    last_status_change  float8,
    created_at          float8,
    withdrawn_at        float8,
    event_id            uuid,
    change_type         text,
    occurred_at         float8,
    recorded_at         float8,
    feed_reason         text,        -- NULL: no feed entry
    response            jsonb,
    -- 'park': the dead letter
    dead_letter_id      uuid,
    code                text,
    detail              text
);

-- Rows come back only for what was not written as asked: 'replayed' (the message id was accepted
-- before: is it the same request, and what was answered), 'stale' (the case is not as the
-- decision saw it: here it is now, or NULLs when it does not exist), and 'parked' (the dead
-- letter that holds a parked message: a retried message finds its pending one).
CREATE TYPE statusbro_outcome AS (
    o_ordinal integer, o_outcome text, o_request_matches boolean, o_response jsonb, o_dead_letter_id uuid,
    o_external_case_id text, o_case_id uuid, o_flow_instance_id text, o_case_type text, o_organisation_number text,
    o_source_system text, o_raw_status text, o_status text, o_category text, o_rule_version integer,
    o_last_status_change timestamptz, o_created_at timestamptz, o_withdrawn_at timestamptz, o_revision bigint
);

CREATE FUNCTION statusbro_apply(p_tenant text, p_changes statusbro_change[])
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
           k.rule_version, k.last_status_change, k.created_at, k.withdrawn_at, k.revision
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
           NULL::timestamptz, NULL::bigint
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
                       updated_at, withdrawn_at)
    SELECT DISTINCT ON (c.external_case_id)
           p_tenant, c.case_id, c.external_case_id, c.flow_instance_id, c.case_type, c.organisation_number,
           c.source_system, c.raw_status, c.status, c.category, c.rule_version, to_timestamp(c.last_status_change),
           to_timestamp(c.created_at), now(), to_timestamp(c.withdrawn_at)
      FROM unnest(v_changes) AS c
     WHERE c.kind = 'apply' AND c.case_written AND c.expected_revision IS NULL
     ORDER BY c.external_case_id, c.ordinal DESC;

    UPDATE cases AS k
       SET flow_instance_id = c.flow_instance_id, case_type = c.case_type, organisation_number = c.organisation_number,
           source_system = c.source_system, raw_status = c.raw_status, status = c.status, category = c.category,
           rule_version = c.rule_version, last_status_change = to_timestamp(c.last_status_change),
           withdrawn_at = to_timestamp(c.withdrawn_at),
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

    -- 5. The feed, in the order of the changes. The tenant's feed lock is taken (shared) before any
    --    position, as the trigger does for single inserts; the positions drawn are handed out in
    --    the order of the changes, whatever order the sequence was read in.
    PERFORM pg_advisory_xact_lock_shared(statusbro_feed_lock_key(p_tenant));
    WITH entries AS (
        SELECT c.*, row_number() OVER (ORDER BY c.ordinal) AS n
          FROM unnest(v_changes) AS c
         WHERE c.kind = 'apply' AND c.feed_reason IS NOT NULL
    ), positions AS (
        SELECT p, row_number() OVER (ORDER BY p) AS n
          FROM (SELECT nextval('feed_position') AS p FROM entries) AS drawn
    )
    INSERT INTO feed_entries (tenant_id, position, case_id, external_case_id, status, category, reason, rule_version)
    SELECT p_tenant, positions.p, e.case_id, e.external_case_id,
           CASE WHEN e.feed_reason = 'delete' THEN NULL ELSE e.status END,
           CASE WHEN e.feed_reason = 'delete' THEN NULL ELSE e.category END,
           e.feed_reason, e.rule_version
      FROM entries AS e JOIN positions USING (n);

    -- 6. The answers, for retries.
    INSERT INTO idempotency_keys (tenant_id, scope, message_id, request, response)
    SELECT p_tenant, c.scope, c.message_id, c.payload, c.response
      FROM unnest(v_changes) AS c
     WHERE c.kind = 'apply' AND c.message_id IS NOT NULL;

    -- 7. The dead letters; a message still pending from an earlier attempt keeps its dead letter.
    RETURN QUERY
    WITH parked AS (
        INSERT INTO dead_letters AS d (tenant_id, dead_letter_id, scope, message_id, code, detail, payload, correlation_id)
        SELECT p_tenant, c.dead_letter_id, c.scope, c.message_id, c.code, c.detail, c.payload, c.correlation_id
          FROM unnest(v_changes) AS c
         WHERE c.kind = 'park'
         ORDER BY c.ordinal
        ON CONFLICT (tenant_id, scope, message_id) WHERE state = 'pending' AND message_id IS NOT NULL
        DO UPDATE SET code = EXCLUDED.code, detail = EXCLUDED.detail, payload = EXCLUDED.payload
        RETURNING d.dead_letter_id, d.scope, d.message_id
    )
    SELECT c.ordinal, 'parked', NULL::boolean, NULL::jsonb, p.dead_letter_id, c.external_case_id,
           NULL::uuid, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL::integer, NULL::timestamptz, NULL::timestamptz,
           NULL::timestamptz, NULL::bigint
      FROM parked AS p
      JOIN unnest(v_changes) AS c
        ON c.kind = 'park' AND (c.dead_letter_id = p.dead_letter_id OR (c.scope = p.scope AND c.message_id = p.message_id));
END
$$;

-- The decisions as JSON (one event, or a few): what the single-event path sends.
CREATE FUNCTION statusbro_apply_changes(p_tenant text, p_changes json)
RETURNS SETOF statusbro_outcome LANGUAGE sql VOLATILE AS $$
    SELECT * FROM statusbro_apply(
        p_tenant, ARRAY(SELECT c FROM json_populate_recordset(NULL::statusbro_change, p_changes) AS c ORDER BY c.ordinal))
$$;

-- One event in one round trip: apply, commit, then answer (the first of what
-- statusbro_apply_changes reported, a replay before a stale case, or nothing when it was written).
-- The commit comes before the answer leaves the server, so nothing is acknowledged that is not durable.
CREATE PROCEDURE statusbro_record_changes(
    p_tenant text, p_changes json,
    OUT o_ordinal integer, OUT o_outcome text, OUT o_request_matches boolean, OUT o_response jsonb,
    OUT o_dead_letter_id uuid, OUT o_external_case_id text, OUT o_case_id uuid, OUT o_flow_instance_id text,
    OUT o_case_type text, OUT o_organisation_number text, OUT o_source_system text, OUT o_raw_status text,
    OUT o_status text, OUT o_category text, OUT o_rule_version integer, OUT o_last_status_change timestamptz,
    OUT o_created_at timestamptz, OUT o_withdrawn_at timestamptz, OUT o_revision bigint
)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT * INTO o_ordinal, o_outcome, o_request_matches, o_response, o_dead_letter_id, o_external_case_id, o_case_id,
                  o_flow_instance_id, o_case_type, o_organisation_number, o_source_system, o_raw_status, o_status,
                  o_category, o_rule_version, o_last_status_change, o_created_at, o_withdrawn_at, o_revision
      FROM statusbro_apply_changes(p_tenant, p_changes) AS r
     ORDER BY CASE r.o_outcome WHEN 'replayed' THEN 0 WHEN 'stale' THEN 1 ELSE 2 END
     LIMIT 1;
    COMMIT;
END
$$;

-- Start-up in one round trip: every tenant's active release, each read under its own tenant's
-- row-level security (the setting is moved from tenant to tenant, then cleared).
CREATE FUNCTION statusbro_active_releases()
RETURNS TABLE (o_tenant_id text, o_version integer, o_document jsonb, o_sha256 text, o_published_by text,
               o_published_at timestamptz, o_comment text, o_rolled_back_from integer)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT tenant_id, rules_version FROM tenants WHERE rules_version > 0 ORDER BY tenant_id
    LOOP
        PERFORM set_config('statusbro.tenant', t.tenant_id, true);
        RETURN QUERY
        SELECT r.tenant_id, r.version, r.document, r.sha256, r.published_by, r.published_at, r.comment, r.rolled_back_from
          FROM rule_releases AS r
         WHERE r.tenant_id = t.tenant_id AND r.version = t.rules_version;
    END LOOP;
    PERFORM set_config('statusbro.tenant', '', true);
END
$$;
