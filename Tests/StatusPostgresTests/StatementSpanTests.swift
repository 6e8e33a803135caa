import Testing

@testable import StatusPostgres

@Suite("Statement spans are named by command and target, from our own SQL")
struct StatementSpanTests {
    @Test("the summary names the command and the table or routine; values never enter it")
    func summaries() {
        let cases: [(String, String)] = [
            ("BEGIN", "BEGIN"),
            ("SELECT 1", "SELECT"),
            ("SELECT set_config('statusbro.tenant', $1, true)", "SELECT set_config"),
            ("SELECT case_id, revision FROM statusbro_case($1, $2)", "SELECT statusbro_case"),
            (RecordChangesStatement.sql, "CALL statusbro_record_changes"),
            (PostgresTenantTransaction.copySQL, "COPY statusbro_staged"),
            ("CREATE TEMP TABLE statusbro_staged OF statusbro_change ON COMMIT DROP", "CREATE statusbro_staged"),
            ("INSERT INTO rule_drafts (tenant_id, document) VALUES ($1, $2)", "INSERT rule_drafts"),
            ("UPDATE dead_letters\n   SET attempts = attempts + 1 WHERE tenant_id = $1", "UPDATE dead_letters"),
            ("DELETE FROM rule_drafts WHERE tenant_id = $1 RETURNING tenant_id", "DELETE rule_drafts"),
            ("WITH remap AS (\n    -- one entry FROM the comment is ignored\n    SELECT * FROM unnest($1, $2)\n)", "WITH unnest"),
            ("SELECT count(*)::bigint FROM 5564900008", "SELECT"),
        ]
        for (sql, summary) in cases {
            #expect(StatementSpan.summary(of: sql) == summary, "\(sql)")
        }
        #expect(StatementSpan.operation(of: "  select 1") == "SELECT")
    }
}
