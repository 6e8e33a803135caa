"""PostgreSQL clusters of a test's own, on loopback: one that can be stopped and started, one that
asks for passwords, and a primary with a streaming standby that the test fails over."""
import os
import shutil
import subprocess
import tempfile
import time

from conftest import free_port

IS_ROOT = os.geteuid() == 0


def pg_bin():
    versions = (f"/usr/lib/postgresql/{v}/bin" for v in os.listdir("/usr/lib/postgresql"))
    return sorted(d for d in versions if os.path.exists(d + "/initdb"))[-1]


def psql(url, sql):
    out = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True, capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


class PrivateCluster:
    """A PostgreSQL cluster of this test's own, so it can be stopped and started.

    `auth_host` is how TCP logins authenticate (`trust`, or `scram-sha-256` to make them give a
    password); logins over the cluster's own socket are trusted, for setting it up.
    """

    def __init__(self, prefix="statusbro-cluster-", auth_host="trust", settings=(), data=None):
        self.bin = pg_bin()
        self.dir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.dir, 0o755)
        if IS_ROOT:
            shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_port()
        self.data = self.dir + "/data"
        self.settings = ["-c listen_addresses=127.0.0.1", "-c fsync=off", *settings]
        if data is None:
            self.as_user([self.bin + "/initdb", "-D", self.data, "-U", "postgres", "-A", "trust", f"--auth-host={auth_host}",
                          "-E", "UTF8", "--locale=C.UTF-8"])
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/restart"

    @property
    def socket_url(self):
        """The superuser over the cluster's socket (trusted), whatever TCP logins need."""
        return f"postgresql://postgres@/postgres?host={self.dir}&port={self.port}"

    def as_user(self, command):
        if IS_ROOT:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self):
        options = f"-p {self.port} -k {self.dir} " + " ".join(self.settings)
        self.as_user([self.bin + "/pg_ctl", "-D", self.data, "-l", self.dir + "/server.log", "-w", "-o", options, "start"])

    def stop(self, mode="fast"):
        self.as_user([self.bin + "/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"])

    def remove(self):
        try:
            self.stop(mode="immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class ReplicatedPair:
    """A primary and a standby streaming from it (made with pg_basebackup -R), both on loopback.

    Replication is synchronous: a commit is acknowledged only once the standby has applied it, so a
    failover after a crash of the primary loses nothing that was acknowledged.
    """

    def __init__(self):
        # remote_apply: a commit returns once the standby has applied it, so what a migration
        # created is there for a login to the standby at once.
        self.primary = PrivateCluster(prefix="statusbro-primary-",
                                      settings=("-c synchronous_standby_names='*'", "-c synchronous_commit=remote_apply"))
        self.primary.start()
        self.standby = PrivateCluster(prefix="statusbro-standby-", data=False)
        self.standby.data = self.standby.dir + "/data"
        self.standby.as_user([self.standby.bin + "/pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
                              "-D", self.standby.data, "-R", "-X", "stream", "-c", "fast"])
        self.standby.start()
        deadline = time.time() + 30
        while psql(self.socket(self.primary), "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") != "1":
            if time.time() > deadline:
                raise AssertionError("the standby did not start streaming")
            time.sleep(0.1)

    @staticmethod
    def socket(cluster):
        return cluster.socket_url

    def url(self, database, first="standby"):
        """Both hosts in one libpq URI, the standby first unless told otherwise: libpq must skip the
        one that does not accept writes."""
        hosts = [self.standby, self.primary] if first == "standby" else [self.primary, self.standby]
        return f"postgresql://postgres@{','.join(f'127.0.0.1:{c.port}' for c in hosts)}/{database}?target_session_attrs=read-write"

    def fail_over(self):
        """Stops the primary as a crash would, then promotes the standby; returns the moments each finished."""
        self.primary.stop(mode="immediate")
        stopped = time.time()
        self.standby.as_user([self.standby.bin + "/pg_ctl", "-D", self.standby.data, "-w", "promote"])
        return stopped, time.time()

    def remove(self):
        self.standby.remove()
        self.primary.remove()
