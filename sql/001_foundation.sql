-- Statusbro schema, part 1: tenants, rules, cases, events, idempotency, dead letters, feed, keys.
--
-- Conventions
-- * Every tenant-scoped table leads with tenant_id, in its primary key and in every index.
-- * Row-level security is ENABLEd and FORCEd on every tenant-scoped table. The policy reads the
--   transaction-local setting statusbro.tenant; unset, it is NULL and no row matches (fail closed).
-- * The service connects as statusbro_app: it owns nothing, cannot bypass RLS, and has only the
--   privileges granted at the end of this file. Migrations run as the owner.
-- * Rule releases, case events and feed entries are append-only; triggers refuse UPDATE and DELETE
--   even for the owner.

-- Roles belong to the whole cluster, so databases migrated at the same time may race to create it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'statusbro_app') THEN
        CREATE ROLE statusbro_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

-- The tenant directory: which tenants exist and which rules version is active. Not tenant data,
-- so readable by the service without a tenant set (the rules listener compares versions with it);
-- only the owner and the release trigger below write it.
CREATE TABLE tenants (
    tenant_id     text PRIMARY KEY CHECK (tenant_id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    rules_version integer NOT NULL DEFAULT 0
);

CREATE TABLE rule_releases (
    tenant_id        text NOT NULL REFERENCES tenants (tenant_id),
    version          integer NOT NULL CHECK (version > 0),
    document         jsonb NOT NULL,
    sha256           text NOT NULL,
    published_by     text NOT NULL,
    -- Milliseconds, as the API shows them: a client passing a publishedAt back as ?at= finds that release.
    published_at     timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
    comment          text NOT NULL DEFAULT '',
    rolled_back_from integer,
    PRIMARY KEY (tenant_id, version)
);
CREATE INDEX rule_releases_published_at ON rule_releases (tenant_id, published_at);

CREATE TABLE rule_drafts (
    tenant_id    text PRIMARY KEY REFERENCES tenants (tenant_id),
    document     jsonb NOT NULL,
    base_version integer NOT NULL DEFAULT 0,
    updated_by   text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A case is the projection of its events. status/category/rule_version are those recorded with
-- the last applied event; what the faces show is raw_status mapped through the active rules.
CREATE TABLE cases (
    tenant_id           text NOT NULL REFERENCES tenants (tenant_id),
    case_id             uuid NOT NULL,
    external_case_id    text NOT NULL,
    flow_instance_id    text,
    case_type           text NOT NULL DEFAULT '',
    organisation_number text,
    source_system       text NOT NULL,
    raw_status          text NOT NULL,
    status              text NOT NULL,
    category            text NOT NULL,
    rule_version        integer NOT NULL,
    last_status_change  timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    withdrawn_at        timestamptz,
    PRIMARY KEY (tenant_id, case_id),
    UNIQUE (tenant_id, external_case_id)
);
CREATE INDEX cases_flow_instance ON cases (tenant_id, flow_instance_id) WHERE flow_instance_id IS NOT NULL;
CREATE INDEX cases_organisation ON cases (tenant_id, organisation_number, last_status_change DESC)
    WHERE organisation_number IS NOT NULL;
CREATE INDEX cases_source_code ON cases (tenant_id, source_system, raw_status);

CREATE TABLE case_events (
    tenant_id      text NOT NULL REFERENCES tenants (tenant_id),
    event_id       uuid NOT NULL,
    case_id        uuid NOT NULL,
    message_id     text,
    change_type    text NOT NULL CHECK (change_type IN ('Create', 'Update', 'Delete')),
    source_system  text NOT NULL,
    raw_status     text NOT NULL,
    status         text NOT NULL,
    category       text NOT NULL,
    rule_version   integer NOT NULL,
    applied        boolean NOT NULL,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    correlation_id text NOT NULL,
    payload        jsonb NOT NULL,
    PRIMARY KEY (tenant_id, event_id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, case_id)
);
CREATE INDEX case_events_case ON case_events (tenant_id, case_id, recorded_at);
CREATE INDEX case_events_recorded ON case_events (tenant_id, recorded_at);

-- One row per accepted message: the request as received (compared as jsonb, so key order and
-- whitespace do not matter) and the answer given, replayed on a retry.
CREATE TABLE idempotency_keys (
    tenant_id  text NOT NULL REFERENCES tenants (tenant_id),
    scope      text NOT NULL,
    message_id text NOT NULL,
    request    jsonb NOT NULL,
    response   jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, scope, message_id)
);

CREATE TABLE dead_letters (
    tenant_id      text NOT NULL REFERENCES tenants (tenant_id),
    dead_letter_id uuid NOT NULL,
    scope          text NOT NULL,
    message_id     text,
    code           text NOT NULL,
    detail         text NOT NULL,
    payload        jsonb NOT NULL,
    correlation_id text NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'replayed')),
    attempts       integer NOT NULL DEFAULT 0,
    replayed_at    timestamptz,
    replay_result  jsonb,
    PRIMARY KEY (tenant_id, dead_letter_id)
);
CREATE INDEX dead_letters_state ON dead_letters (tenant_id, state, received_at);
-- A retried message that is rejected again finds its pending dead letter instead of adding one.
CREATE UNIQUE INDEX dead_letters_pending_message ON dead_letters (tenant_id, scope, message_id)
    WHERE state = 'pending' AND message_id IS NOT NULL;

-- The change feed. Positions come from one sequence, taken after the case row is locked (so one
-- case's entries are in the order of its changes) and while the writer holds the tenant's feed
-- lock in shared mode; a reader takes that lock exclusively for an instant to learn a position
-- below which every writer has finished, and never reads past it. See ChangeFeed in the README.
CREATE SEQUENCE feed_position AS bigint;
CREATE TABLE feed_entries (
    tenant_id        text NOT NULL REFERENCES tenants (tenant_id),
    position         bigint NOT NULL,
    case_id          uuid NOT NULL,
    external_case_id text NOT NULL,
    status           text,
    category         text,
    reason           text NOT NULL CHECK (reason IN ('event', 'rules', 'delete')),
    rule_version     integer NOT NULL,
    changed_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, position)
);
CREATE INDEX feed_entries_changed ON feed_entries (tenant_id, changed_at);

-- API keys: only the SHA-256 of the key is stored. The key itself names its tenant, so the lookup
-- runs under that tenant's row-level security like everything else.
CREATE TABLE api_keys (
    tenant_id  text NOT NULL REFERENCES tenants (tenant_id),
    key_id     text NOT NULL,
    key_hash   bytea NOT NULL CHECK (octet_length(key_hash) = 32),
    name       text NOT NULL DEFAULT '',
    roles      text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    PRIMARY KEY (tenant_id, key_id),
    UNIQUE (tenant_id, key_hash)
);

-- Row-level security for tenant-scoped tables: ENABLEd, FORCEd (the owner too), and one policy
-- on the tenant the transaction set. Later migrations call it for their own tables.
CREATE FUNCTION statusbro_isolate_by_tenant(tables text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY tables
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''statusbro.tenant'', true)) '
            'WITH CHECK (tenant_id = current_setting(''statusbro.tenant'', true))', t);
    END LOOP;
END
$$;
REVOKE EXECUTE ON FUNCTION statusbro_isolate_by_tenant(text[]) FROM PUBLIC;

SELECT statusbro_isolate_by_tenant(ARRAY['rule_releases', 'rule_drafts', 'cases', 'case_events', 'idempotency_keys',
                                         'dead_letters', 'feed_entries', 'api_keys']);

-- Append-only tables refuse changes, whoever asks.
CREATE FUNCTION statusbro_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER rule_releases_immutable BEFORE UPDATE OR DELETE ON rule_releases
    FOR EACH ROW EXECUTE FUNCTION statusbro_refuse_change();
CREATE TRIGGER rule_releases_no_truncate BEFORE TRUNCATE ON rule_releases
    FOR EACH STATEMENT EXECUTE FUNCTION statusbro_refuse_change();
CREATE TRIGGER case_events_immutable BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION statusbro_refuse_change();
CREATE TRIGGER feed_entries_immutable BEFORE UPDATE ON feed_entries
    FOR EACH ROW EXECUTE FUNCTION statusbro_refuse_change();

-- Publishing a release moves the tenant's active version and notifies every server process, in
-- the same transaction as the insert: the notification is delivered only if the release commits.
CREATE FUNCTION statusbro_release_published() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE tenants SET rules_version = NEW.version
     WHERE tenant_id = NEW.tenant_id AND rules_version < NEW.version;
    PERFORM pg_notify('statusbro_rules', NEW.tenant_id || ':' || NEW.version);
    RETURN NULL;
END
$$;
CREATE TRIGGER rule_releases_published AFTER INSERT ON rule_releases
    FOR EACH ROW EXECUTE FUNCTION statusbro_release_published();

-- A key created or revoked tells every server process to forget what it cached for that tenant.
CREATE FUNCTION statusbro_keys_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('statusbro_keys', NEW.tenant_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION statusbro_keys_changed();

-- The change feed's ordering protocol. Sequence values are not commit-ordered: a writer that took
-- position 10 may commit after one that took 11. So every feed insert takes the tenant's feed lock
-- in SHARED mode before taking its position (this trigger, for every writer), and holds it to
-- commit; a reader takes the lock EXCLUSIVELY for an instant, which waits for the writers in
-- flight, and reads the highest committed position: every position up to it is final, and any
-- later writer gets a higher one. Readers never read past that horizon, so none skips a change.
CREATE FUNCTION statusbro_feed_lock_key(p_tenant text) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT hashtextextended('statusbro.feed:' || p_tenant, 0) $$;

CREATE FUNCTION statusbro_feed_position() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(statusbro_feed_lock_key(NEW.tenant_id));
    NEW.position := nextval('feed_position');
    RETURN NEW;
END
$$;
CREATE TRIGGER feed_entries_position BEFORE INSERT ON feed_entries
    FOR EACH ROW EXECUTE FUNCTION statusbro_feed_position();

CREATE FUNCTION statusbro_feed_horizon(p_tenant text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(statusbro_feed_lock_key(p_tenant));
    RETURN COALESCE((SELECT max(position) FROM feed_entries WHERE tenant_id = p_tenant), 0);
END
$$;

-- Hot reads in one round trip: each sets the tenant for its own (implicit) transaction and then
-- reads under row-level security like any other query. Only ever called outside a transaction.
CREATE FUNCTION statusbro_case(p_tenant text, p_external_case_id text) RETURNS SETOF cases
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('statusbro.tenant', p_tenant, true);
    RETURN QUERY SELECT * FROM cases WHERE tenant_id = p_tenant AND external_case_id = p_external_case_id;
END
$$;

CREATE FUNCTION statusbro_case_by_flow_or_external(p_tenant text, p_id text) RETURNS SETOF cases
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('statusbro.tenant', p_tenant, true);
    -- A flow instance id wins over an external case id; a live case over a withdrawn one.
    RETURN QUERY SELECT * FROM cases
     WHERE tenant_id = p_tenant AND (flow_instance_id = p_id OR external_case_id = p_id)
     ORDER BY withdrawn_at IS NULL DESC, flow_instance_id IS NOT DISTINCT FROM p_id DESC
     LIMIT 1;
END
$$;

-- What the service may do.
GRANT USAGE ON SCHEMA public TO statusbro_app;
GRANT SELECT ON tenants TO statusbro_app;
GRANT SELECT, INSERT ON rule_releases TO statusbro_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON rule_drafts TO statusbro_app;
GRANT SELECT, INSERT, UPDATE ON cases TO statusbro_app;
GRANT SELECT, INSERT ON case_events TO statusbro_app;
GRANT SELECT, INSERT ON idempotency_keys TO statusbro_app;
GRANT SELECT, INSERT, UPDATE ON dead_letters TO statusbro_app;
GRANT SELECT, INSERT ON feed_entries TO statusbro_app;
GRANT USAGE ON SEQUENCE feed_position TO statusbro_app;
GRANT SELECT, INSERT ON api_keys TO statusbro_app;
GRANT UPDATE (revoked_at) ON api_keys TO statusbro_app;
