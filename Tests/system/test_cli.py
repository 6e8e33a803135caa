"""The command line: tenants validate/import/export, keys, migrate."""
import textwrap

from conftest import HOME, create_key, database_url, run


def test_validate_reports_every_finding_with_its_path(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(textwrap.dedent("""\
        tenant: testkommun
        displayName: Testkommun
        country: SE
        timeZone: Europe/Stockholm
        categories: [Mottagningskvittens, Beslut]
        statuses:
          - {name: Inskickat, category: Mottagningskvittens}
          - {name: Klart, category: Besluut}
        sources:
          BYGGR:
            codes: {ANM: Inskickat, KOMP: Väntar}
        transitions:
          rules:
            - {from: Arkiv, to: [Klart]}
        roles:
          portal: [status:read, status:write]
        """))
    result = run(["tenants", "validate", str(broken)], check=False)
    assert result.returncode != 0
    out = result.stdout
    assert "statuses: no status is marked initial: true" in out
    assert "statuses[1].category:" in out
    assert "sources.BYGGR.codes.KOMP:" in out
    assert "transitions.rules[0].from:" in out
    assert "roles.portal[1]:" in out
    assert "broken.yaml: INVALID" in out


def test_validate_accepts_the_shipped_tenants():
    result = run(["tenants", "validate"])
    assert "sundsvall.yaml: valid" in result.stdout
    assert "bergen.yaml: valid" in result.stdout
    assert "nav-oslo.yaml: valid" in result.stdout
    assert "aarhus.yaml: valid" in result.stdout


def test_validate_reports_unreadable_yaml_with_a_path(tmp_path):
    typo = tmp_path / "typo.yaml"
    typo.write_text("tenant: x\ndisplayName: X\ncountry: SE\ntimeZone: Europe/Oslo\nstatuses: []\ntransition: {}\n")
    result = run(["tenants", "validate", str(typo)], check=False)
    assert result.returncode != 0
    assert "transition: unknown key 'transition'" in result.stdout


def test_import_export_keys_and_migrate_against_a_database(tmp_path):
    env = {"DATABASE_URL": database_url()}
    run(["migrate"], env=env)
    run(["migrate"], env=env)  # twice in a row: nothing to do
    imported = run(["tenants", "import"], env=env).stdout
    assert "sundsvall: published version 1" in imported
    assert "unchanged" in run(["tenants", "import", str(HOME / "tenants/sundsvall.yaml")], env=env).stdout

    exported = run(["tenants", "export", "sundsvall"], env=env).stdout
    assert exported.startswith("tenant: sundsvall\n")
    copy = tmp_path / "sundsvall.yaml"
    copy.write_text(exported)
    assert "sundsvall: unchanged" in run(["tenants", "import", str(copy)], env=env).stdout

    key = create_key("sundsvall", "oep-portal", env)
    assert key.startswith("sbk_sundsvall_")
    listing = run(["keys", "list", "--tenant", "sundsvall"], env=env).stdout
    assert key not in listing and "oep-portal" in listing
    key_id = listing.splitlines()[1].split("\t")[0]
    assert "revoked" in run(["keys", "revoke", key_id], env=env).stdout
    assert run(["keys", "list", "--tenant", "sundsvall"], env=env).stdout.splitlines()[1].split("\t")[4] != "-"

    wrong_role = run(["keys", "create", "--tenant", "sundsvall", "--role", "nobody"], env=env, check=False)
    assert wrong_role.returncode != 0 and "no role 'nobody'" in wrong_role.stderr
