"""DATABASE_URL as every PostgreSQL tool reads it (libpq): a URI, key=value settings, the PG*
variables, a password file, a service file, several hosts; and a bad setting, answered with one
line, exit status 2, no stack trace and no password.

The cluster here asks every TCP login for a password (scram-sha-256), so a command that works
proves the password was found where the form says, for the owner and for statusbro_app alike."""
import os
import socket

import pytest

from clusters import PrivateCluster, psql
from conftest import Server, create_key, free_port, run

OWNER_PASSWORD = "owner-Secret-1"
SERVICE_PASSWORD = "app-Secret-2"


@pytest.fixture(scope="module")
def cluster():
    cluster = PrivateCluster(prefix="statusbro-passwords-", auth_host="scram-sha-256")
    cluster.start()
    psql(cluster.socket_url, f"ALTER ROLE postgres PASSWORD '{OWNER_PASSWORD}'")
    # The role the migrations would create, made first so it has a password to log in with.
    psql(cluster.socket_url, f"CREATE ROLE statusbro_app LOGIN PASSWORD '{SERVICE_PASSWORD}'")
    yield cluster
    cluster.remove()


def clean_env(**extra):
    """The environment of a command: no PG* variable of the caller, then `extra`."""
    env = {name: None for name in os.environ if name.startswith("PG")}
    env.update(extra)
    return env


def works(env, tenant="sundsvall"):
    """Imports the tenants (owner and service logins both) and makes a key (service login)."""
    result = run(["tenants", "import"], env=env)
    assert "published" in result.stdout or "unchanged" in result.stdout, result.stdout
    assert create_key(tenant, "oep-portal", env).startswith(f"sbk_{tenant}_")


def private_file(path, text):
    path.write_text(text)
    os.chmod(path, 0o600)  # libpq ignores a password file others can read
    return str(path)


def test_a_uri(cluster):
    works(clean_env(DATABASE_URL=f"postgresql://postgres:{OWNER_PASSWORD}@127.0.0.1:{cluster.port}/settings",
                    DATABASE_SERVICE_PASSWORD=SERVICE_PASSWORD))


def test_key_value_settings_and_the_flag(cluster):
    settings = f"host=127.0.0.1 port={cluster.port} dbname=settings user=postgres password='{OWNER_PASSWORD}'"
    works(clean_env(DATABASE_URL=settings, DATABASE_SERVICE_PASSWORD=SERVICE_PASSWORD))
    result = run(["keys", "list", "--tenant", "sundsvall", "--database-url", settings], env=clean_env(DATABASE_SERVICE_PASSWORD=SERVICE_PASSWORD))
    assert result.returncode == 0


def test_pg_variables(cluster):
    # An empty URI takes everything from the environment, as `psql postgresql://` does.
    works(clean_env(DATABASE_URL="postgresql://", PGHOST="127.0.0.1", PGPORT=str(cluster.port), PGDATABASE="settings",
                    PGUSER="postgres", PGPASSWORD=OWNER_PASSWORD, DATABASE_SERVICE_PASSWORD=SERVICE_PASSWORD))


def test_a_password_file_for_both_logins(cluster, tmp_path, server_factory):
    passfile = private_file(tmp_path / "pgpass", f"127.0.0.1:{cluster.port}:*:postgres:{OWNER_PASSWORD}\n"
                                                  f"127.0.0.1:{cluster.port}:settings:statusbro_app:{SERVICE_PASSWORD}\n")
    env = clean_env(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{cluster.port}/settings", PGPASSFILE=passfile)
    works(env)
    # The running service logs in as statusbro_app with the file's password, pool and listener alike.
    server = server_factory(env=env, name="pgpass")
    health = server.wait_healthy()
    assert health["database"] == "ok" and health["rulesListener"] == "connected"
    server.stop()
    log = server.log_path.read_text()
    assert SERVICE_PASSWORD not in log and OWNER_PASSWORD not in log


def test_a_service_file(cluster, tmp_path):
    services = tmp_path / "pg_service.conf"
    services.write_text(f"[statusbro]\nhost=127.0.0.1\nport={cluster.port}\ndbname=settings\nuser=postgres\n")
    passfile = private_file(tmp_path / "pgpass", f"*:*:*:postgres:{OWNER_PASSWORD}\n*:*:*:statusbro_app:{SERVICE_PASSWORD}\n")
    works(clean_env(DATABASE_URL="service=statusbro", PGSERVICEFILE=str(services), PGPASSFILE=passfile))
    works(clean_env(DATABASE_URL="postgresql://", PGSERVICE="statusbro", PGSERVICEFILE=str(services), PGPASSFILE=passfile))


def test_several_hosts_skip_one_that_does_not_answer(cluster):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]  # bound, never listening: connections are refused
        works(clean_env(DATABASE_URL=f"postgresql://postgres:{OWNER_PASSWORD}@127.0.0.1:{dead},127.0.0.1:{cluster.port}/settings"
                                     "?target_session_attrs=read-write",
                        DATABASE_SERVICE_PASSWORD=SERVICE_PASSWORD))


@pytest.mark.parametrize("setting, expected", [
    ("postgresql://postgres:{password}@127.0.0.1:{port}/settings?colour=blue", 'invalid URI query parameter: "colour"'),
    ("host=127.0.0.1 port={port} user=postgres password='{password} dbname=settings", "unterminated quoted string"),
    ("postgresql://postgres:{password}@127.0.0.1:{port}/settings?target_session_attrs=standby", "needs read-write"),
    ("postgresql://postgres:wrong-{password}@127.0.0.1:{port}/settings", "password authentication failed"),
    ("postgresql://postgres:{password}@127.0.0.1:{dead}/settings", "Connection refused"),
])
def test_a_bad_setting_is_one_line_exit_2_and_never_the_password(cluster, setting, expected):
    text = setting.format(password=OWNER_PASSWORD, port=cluster.port, dead=free_port())
    result = run(["keys", "list", "--tenant", "sundsvall"], env=clean_env(DATABASE_URL=text), check=False)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert expected in lines[0], lines[0]
    assert OWNER_PASSWORD not in result.stderr + result.stdout


def test_the_service_login_without_a_password_says_what_to_do(cluster, tmp_path):
    passfile = private_file(tmp_path / "pgpass", f"*:*:*:postgres:{OWNER_PASSWORD}\n")
    result = run(["keys", "list", "--tenant", "sundsvall"], check=False,
                 env=clean_env(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{cluster.port}/settings", PGPASSFILE=passfile))
    assert result.returncode == 2
    assert "statusbro_app" in result.stderr and "DATABASE_SERVICE_PASSWORD" in result.stderr and len(result.stderr.strip().splitlines()) == 1
