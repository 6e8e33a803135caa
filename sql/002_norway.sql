-- Norwegian e-building submissions (DiBK receipt v2 and updates). A submission is a case of the
-- core (external_case_id = the receipt's innsendingReferanse); these tables hold what only this
-- face needs: which references name the case (merged or moved cases add more), its municipal case
-- number, and each update as received, folded in order for the status API. The receipt itself is
-- the request stored for its idempotency key (scope 'dibk-kvittering').

CREATE TABLE dibk_references (
    tenant_id            text NOT NULL REFERENCES tenants (tenant_id),
    innsending_referanse text NOT NULL,
    external_case_id     text NOT NULL,
    linked_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, innsending_referanse),
    FOREIGN KEY (tenant_id, external_case_id) REFERENCES cases (tenant_id, external_case_id)
);
CREATE INDEX dibk_references_case ON dibk_references (tenant_id, external_case_id, linked_at);

CREATE TABLE dibk_case_numbers (
    tenant_id         text NOT NULL REFERENCES tenants (tenant_id),
    external_case_id  text NOT NULL,
    saksaar           text NOT NULL,
    sakssekvensnummer text NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, external_case_id),
    FOREIGN KEY (tenant_id, external_case_id) REFERENCES cases (tenant_id, external_case_id)
);
CREATE INDEX dibk_case_numbers_number ON dibk_case_numbers (tenant_id, saksaar, sakssekvensnummer);

CREATE TABLE dibk_updates (
    tenant_id        text NOT NULL REFERENCES tenants (tenant_id),
    oppdatering_id   uuid NOT NULL,
    external_case_id text NOT NULL,
    oppdatert_dato   timestamptz NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    payload          jsonb NOT NULL,
    PRIMARY KEY (tenant_id, oppdatering_id),
    FOREIGN KEY (tenant_id, external_case_id) REFERENCES cases (tenant_id, external_case_id)
);
CREATE INDEX dibk_updates_case ON dibk_updates (tenant_id, external_case_id, oppdatert_dato, received_at);

SELECT statusbro_isolate_by_tenant(ARRAY['dibk_references', 'dibk_case_numbers', 'dibk_updates']);

CREATE TRIGGER dibk_updates_immutable BEFORE UPDATE OR DELETE ON dibk_updates
    FOR EACH ROW EXECUTE FUNCTION statusbro_refuse_change();

GRANT SELECT, INSERT ON dibk_references TO statusbro_app;
GRANT SELECT, INSERT, UPDATE ON dibk_case_numbers TO statusbro_app;
GRANT SELECT, INSERT ON dibk_updates TO statusbro_app;
