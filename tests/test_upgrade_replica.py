"""Crans' live site upgraded onto the bundle, on a replica (issue 19), as docs/upgrade.md says.

The old site: a Debian 11 root filesystem (tests/debian13.py, suite bullseye) with
Debian's mailman3-web, PyPI's django-allauth-cas 1.0.0 and stand-ins of Crans' two old
packages (tests/replica/: ``allauth-cas-crans``, ``mailman-crans-theme``, the modules
of the bundle's names), its settings (tests/replica/mailman-web.py) on a database of
the PostgreSQL server of ``.ci/postgres``, served by ``runserver`` on 127.0.0.1.
Members log in through a real django-cas-server (``Bob``: the CAS returns the name
with its capital), carol adds and confirms a second address; then votes, a
favourite and a local superuser (tests/replica/seed.py). The database is dumped.

Upgraded on Debian 13 root filesystems, both ways: (a) fresh, the dump restored into
a new database; (b) in place, on the old database with the old pip packages installed
in the root filesystem, removed before the bundle is installed; and (c) the wrong order
(the bundle installed over the old packages) stopped by the system check. Every member
logs in again through the CAS on the upgraded site (``runserver``): same account, votes,
favourites and addresses. A copy of the old database with one more row normalising to
alice's uid is refused by ``crans_upgrade``, both accounts named. Needs root.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
import requests

from devstack.cas_server import CasServer, CasUser
from devstack.postgresql import administer_postgresql, postgresql_server
from tests.debian13 import (
    Debian,
    chroot,
    copy_wheels,
    make_wheels,
    unpacked_root,
)
from tests.fixtures.cas_server import Browser
from tests.test_debian13 import SECRETS, SETTINGS_LINE, cas_version

pytestmark = pytest.mark.debian13

REPO = Path(__file__).resolve().parent.parent
REPLICA = Path(__file__).resolve().parent / "replica"
UPGRADE_DOC = (REPO / "docs" / "upgrade.md").read_text()
OLD_SUITE = "bullseye"
OLD_PACKAGES = ("mailman3-web", "python3-pip", "python3-psycopg2", "python3-lxml")
# What Crans' old site had from pip: PyPI's and Crans' own (stand-ins made here).
OLD_DOWNLOADS = ("django-allauth-cas==1.0.0", "python-cas==1.6.0", "six")
OLD_DISTRIBUTIONS = ("django-allauth-cas", "allauth-cas-crans", "mailman-crans-theme")
MEMBERS = (
    CasUser("alice", "alice-password", "alice@example.org", "Alice", "Liddell"),
    CasUser("Bob", "bob-password", "bob@example.org", "Bob", "Martin"),
    CasUser("carol", "carol-password", "carol@example.org", "Carol", "Ann"),
)
CAROL_SECOND = "carol.ann@example.org"
MANAGE = "/usr/share/mailman3-web/manage.py"
# The upgraded site's test settings: the test CAS, served over http on loopback.
TEST_SETTINGS = """
# The test's CAS server on loopback and the site served over http by runserver.
SOCIALACCOUNT_PROVIDERS = {{"crans": {{"SERVER_URL": "{cas}", "VERIFIED_EMAIL": ["example.org"]}}}}
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def doc_commands(marker: str) -> list[str]:
    """The command lines of docs/upgrade.md's code block that holds ``marker``."""
    for block in re.findall(r"```sh\n(.*?)```", UPGRADE_DOC, flags=re.DOTALL):
        if marker in block:
            return [line.strip() for line in block.splitlines() if line.strip()]
    raise AssertionError(f"No command block with {marker!r} in docs/upgrade.md")


class Database:
    """A database on the PostgreSQL server of ``.ci/postgres``."""

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def create(cls, name: str) -> Database:
        administer_postgresql(f'CREATE DATABASE "{name}"')
        return cls(name)

    def drop(self) -> None:
        administer_postgresql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    @property
    def env(self) -> dict[str, str]:
        server = postgresql_server()
        return {
            "MAILMAN_WEB_DB_HOST": server["host"],
            "MAILMAN_WEB_DB_PORT": server["port"],
            "MAILMAN_WEB_DB_USER": server["user"],
            "MAILMAN_WEB_DB_PASSWORD": server["password"],
            "MAILMAN_WEB_DB_NAME": self.name,
        }

    def _client(self, tool: str, *args: str) -> list[str]:
        server = postgresql_server()
        return [tool, "-h", server["host"], "-p", server["port"], "-U", server["user"], *args]

    def dump(self, path: Path) -> Path:
        command = self._client("pg_dump", "-Fc", "-f", str(path), self.name)
        environment = {**os.environ, "PGPASSWORD": postgresql_server()["password"]}
        subprocess.run(command, check=True, env=environment, capture_output=True, timeout=300)
        return path

    def restore(self, path: Path) -> None:
        command = self._client("pg_restore", "--no-owner", "-d", self.name, str(path))
        environment = {**os.environ, "PGPASSWORD": postgresql_server()["password"]}
        subprocess.run(command, check=True, env=environment, capture_output=True, timeout=300)

    def rows(self, query: str) -> list[tuple]:
        connection = psycopg2.connect(dbname=self.name, **postgresql_server())
        try:
            with connection.cursor() as cursor:
                cursor.execute(query)
                return sorted(cursor.fetchall())
        finally:
            connection.close()

    def state(self) -> dict[str, list[tuple]]:
        """What a member keeps: accounts, CAS accounts, addresses, votes, favourites."""
        return {
            "users": self.rows("SELECT id, username, is_superuser FROM auth_user"),
            "cas": self.rows("SELECT user_id, provider, uid FROM socialaccount_socialaccount"),
            "addresses": self.rows(
                'SELECT user_id, email, verified, "primary" FROM account_emailaddress'
            ),
            "votes": self.rows(
                "SELECT v.user_id, e.message_id, v.value FROM hyperkitty_vote v"
                " JOIN hyperkitty_email e ON e.id = v.email_id"
            ),
            "favorites": self.rows(
                "SELECT f.user_id, t.thread_id FROM hyperkitty_favorite f"
                " JOIN hyperkitty_thread t ON t.id = f.thread_id"
            ),
        }


@contextlib.contextmanager
def served(debian: Debian, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``manage.py runserver`` on 127.0.0.1 as www-data in the root filesystem; its URL.

    Ended by its own PID (chroot and env exec it: the PID is runserver's)."""
    port = free_port()
    environment = [f"{name}={value}" for name, value in (env or debian.env).items()]
    command = ["python3", MANAGE, "runserver", "--noreload", f"127.0.0.1:{port}"]
    with log.open("a") as output:
        process = subprocess.Popen(
            ["chroot", "--userspec=www-data:www-data", str(debian.root), "env", "-i"]
            + ["PATH=/usr/bin:/bin", "HOME=/tmp", "LC_ALL=C.UTF-8", *environment, *command],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(f"{url}/accounts/login/", timeout=30)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"runserver did not answer:\n{log.read_text()}") from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def log_in(site: str, member: CasUser) -> Browser:
    """``member`` logs in through the CAS on ``site``; the browser, logged in."""
    browser = Browser(site, member)
    response = browser.log_in()
    assert response.status_code == 302, response.text
    page = browser.get("/accounts/email/")
    assert page.status_code == 200, (member.username, page.status_code, page.text[:2000])
    return browser


def session_users(debian: Debian, browsers: dict[str, Browser]) -> dict[str, list]:
    """Each browser's account on the site: [user id, username], from its session."""
    keys = {name: browser.http.cookies["sessionid"] for name, browser in browsers.items()}
    return debian.python(
        "import json\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.contrib.sessions.backends.db import SessionStore\n"
        f"keys = {keys!r}\n"
        "found = {}\n"
        "for name, key in keys.items():\n"
        "    user = get_user_model().objects.get(pk=SessionStore(key)['_auth_user_id'])\n"
        "    found[name] = [user.pk, user.username]\n"
        "print(json.dumps(found))\n"
    )


def install(debian: Debian, *requirements: str, options: tuple[str, ...] = ()) -> str:
    """pip-install ``requirements`` in the root filesystem from its /tmp/wheels."""
    command = ["python3", "-m", "pip", "install", *options, "--no-index", "--no-deps"]
    command += ["--find-links", "/tmp/wheels", *requirements]
    return checked_in(debian, *command).stdout


def checked_in(debian: Debian, *command: str, env: dict | None = None):
    """Run ``command`` as root in the root filesystem; fail with its output."""
    result = chroot(debian.root, *command, env=env, timeout=600)
    assert result.returncode == 0, (
        f"{command} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
    return result


# The replica's old site ------------------------------------------------------------


@pytest.fixture(scope="module")
def replica_cas(tmp_path_factory) -> Iterator[CasServer]:
    """The replica's own CAS server: its members, ``Bob`` with his capital."""
    with CasServer(tmp_path_factory.mktemp("replica-cas"), users=MEMBERS) as server:
        yield server


@pytest.fixture(scope="module")
def old_wheels(tmp_path_factory) -> Path:
    """PyPI's django-allauth-cas, python-cas 1.6.0 and six; the two old Crans packages."""
    folder = tmp_path_factory.mktemp("old-wheels")
    sources = [REPLICA / "allauth-cas-crans", REPLICA / "mailman-crans-theme"]
    return make_wheels(folder, sources, OLD_DOWNLOADS)


@pytest.fixture(scope="module")
def new_wheels(tmp_path_factory) -> Path:
    """The bundle's wheel and python-cas' (the README's)."""
    folder = tmp_path_factory.mktemp("new-wheels")
    return make_wheels(folder, [REPO], [f"python-cas=={cas_version()}"])


@pytest.fixture(scope="module")
def old_database() -> Iterator[Database]:
    database = Database.create(f"replica_old_{os.getpid()}")
    yield database
    database.drop()


@pytest.fixture(scope="module")
def old_site(tmp_path_factory, old_wheels, old_database, replica_cas) -> Iterator[dict]:
    """The old site built, used by its members, stopped; the database's state and dump."""
    folder = tmp_path_factory.mktemp("bullseye")
    env = {**SECRETS, **old_database.env, "REPLICA_CAS_URL": replica_cas.url}
    duplicate = None
    try:
        with unpacked_root(folder / "root", OLD_SUITE, OLD_PACKAGES) as root:
            debian = Debian(root, env, "")
            copy_wheels(root, old_wheels)
            names = ["django-allauth-cas", "python-cas", "six", *OLD_DISTRIBUTIONS[1:]]
            install(debian, *names)
            (root / "etc/mailman3/mailman-web.py").write_text(
                (REPLICA / "mailman-web.py").read_text()
            )
            debian.manage("migrate", "--noinput", "-v", "0", timeout=600)
            with served(debian, folder / "runserver.log") as site:
                browsers = {member.username: log_in(site, member) for member in MEMBERS}
                add_second_address(root, browsers["carol"])
                logged_in = session_users(debian, browsers)
            versions = debian.python(
                "import json, django, allauth, allauth_cas;"
                "print(json.dumps([django.get_version(), allauth.__version__]))"
            )
            debian.manage("shell", input=(REPLICA / "seed.py").read_text(), timeout=300)
            dump = old_database.dump(folder / "old-site.dump")
            duplicate = make_duplicate(debian, dump)
            yield {
                "debian": debian,
                "logged_in": logged_in,
                "versions": versions,
                "state": old_database.state(),
                "dump": dump,
                "duplicate": duplicate,
            }
    finally:
        if duplicate is not None:
            duplicate.drop()


def add_second_address(root: Path, browser: Browser) -> None:
    """carol adds an address on the old site and follows the confirmation mail's link."""
    response = browser.submit("/accounts/email/", {"email": CAROL_SECOND, "action_add": ""})
    assert response.status_code == 302, response.text
    mails = "".join(path.read_text() for path in (root / "tmp/replica-mails").iterdir())
    path = re.findall(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", mails)[-1]
    response = browser.submit(path, {})
    assert response.status_code == 302, response.text


def make_duplicate(debian: Debian, dump: Path) -> Database:
    """A copy of the old database where the CAS once returned "ALICE" for another account."""
    database = Database.create(f"replica_duplicate_{os.getpid()}")
    database.restore(dump)
    env = {**debian.env, **database.env}
    debian.manage("shell", input=(REPLICA / "duplicate.py").read_text(), env=env)
    return database


def test_the_old_site_is_debian_11s_with_django_allauth_cas(old_site):
    assert old_site["versions"] == ["2.2.28", "0.44.0"]


def test_members_logged_in_on_the_old_site_through_the_cas(old_site):
    """django-allauth-cas stored the CAS usernames as the CAS returned them."""
    state = old_site["state"]
    ids = {name: user_id for name, (user_id, _) in old_site["logged_in"].items()}
    assert {name: username for name, (_, username) in old_site["logged_in"].items()} == {
        "alice": "alice",
        "Bob": "Bob",
        "carol": "carol",
    }
    assert state["cas"] == sorted((ids[name], "crans", name) for name in ids)
    assert (ids["carol"], CAROL_SECOND, True, False) in state["addresses"]
    assert (ids["Bob"], "replica-2@crans.org", 1) in state["votes"]
    assert len(state["favorites"]) == 1
    assert [row[1] for row in state["users"] if row[2]] == ["admin"]


# The upgrade on Debian 13, as docs/upgrade.md says -----------------------------------


def new_settings(root: Path, cas: CasServer) -> None:
    """Step 2: /etc/mailman3/mailman-web.py becomes the bundle's line (+ the test's CAS)."""
    config = root / "etc" / "mailman3" / "mailman-web.py"
    config.write_text(f"{SETTINGS_LINE}\n{TEST_SETTINGS.format(cas=cas.url)}")


def install_bundle(debian: Debian) -> str:
    """Step 5: the bundle's wheel with the README's pip line (the index: the wheels)."""
    command = ["python3", "-m", "pip", "install", "--break-system-packages", "--no-index"]
    command += ["--find-links", "/tmp/wheels", "crans-mailman-web"]
    return checked_in(debian, *command).stdout


def install_old_packages(debian: Debian) -> None:
    """The old site's pip packages, in the Debian 13 root filesystem (a pip of its Python)."""
    names = ["django-allauth-cas", "python-cas==1.6.0", "six", *OLD_DISTRIBUTIONS[1:]]
    install(debian, *names, options=("--break-system-packages",))


MISSING_FILES = """
import json
from importlib.metadata import distribution
bundle = distribution("crans-mailman-web")
print(json.dumps([str(f) for f in bundle.files if not f.locate().exists()]))
"""


def missing_bundle_files(debian: Debian) -> list[str]:
    """The files of the bundle's RECORD that are not on disk."""
    result = checked_in(debian, "python3", "-c", MISSING_FILES)
    return json.loads(result.stdout.strip().splitlines()[-1])


def mailman_web(debian: Debian, line: str) -> subprocess.CompletedProcess:
    """A docs line ``mailman-web ...``, run as written (Debian's /usr/bin/mailman-web)."""
    return chroot(debian.root, "sh", "-c", line, env=debian.env, timeout=900)


def upgrade_and_log_in(debian: Debian, database: Database, log: Path) -> dict:
    """Steps 6 and 7 of docs/upgrade.md, then every member logs in through the CAS."""
    found = {"state before": database.state()}
    for line in doc_commands("crans_upgrade --check"):
        found[line] = mailman_web(debian, line)
    found["second run"] = mailman_web(debian, "mailman-web crans_upgrade --check")
    for line in doc_commands("mailman-web migrate"):
        if line.startswith("mailman-web "):
            found[line] = mailman_web(debian, line)
    with served(debian, log) as site:
        browsers = {member.username: log_in(site, member) for member in MEMBERS}
        found["addresses page"] = browsers["carol"].get("/accounts/email/").text
    found["logged in"] = session_users(debian, browsers)
    doctor = mailman_web(debian, "mailman-web crans_doctor --json")
    found["doctor"] = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    found["state"] = database.state()
    return found


@pytest.fixture(scope="module")
def fresh_database(old_site) -> Iterator[Database]:
    database = Database.create(f"replica_fresh_{os.getpid()}")
    database.restore(old_site["dump"])
    yield database
    database.drop()


@pytest.fixture(scope="module")
def fresh(
    tmp_path_factory, old_site, old_wheels, new_wheels, fresh_database, replica_cas
) -> Iterator[dict]:
    """(a) A new Debian 13 root filesystem, the dump restored into a new database."""
    folder = tmp_path_factory.mktemp("trixie-fresh")
    with unpacked_root(folder / "root") as root:
        debian = Debian(root, {**SECRETS, **fresh_database.env}, "")
        new_settings(root, replica_cas)
        copy_wheels(root, new_wheels)
        install_bundle(debian)
        duplicate = old_site["duplicate"]
        refused = {
            line: mailman_web(Debian(root, {**debian.env, **duplicate.env}, ""), line)
            for line in doc_commands("crans_upgrade --check")
        }
        refused["state"] = duplicate.state()
        found = upgrade_and_log_in(debian, fresh_database, folder / "runserver.log")
        # Then, on the same root filesystem, the order docs/upgrade.md warns against.
        copy_wheels(root, old_wheels)
        found["wrong order"] = the_wrong_order(debian, new_wheels)
    yield {"refused": refused, **found}


@pytest.fixture(scope="module")
def in_place(
    tmp_path_factory, old_site, old_wheels, new_wheels, old_database, replica_cas
) -> Iterator[dict]:
    """(b) In place: the old database, the old pip packages in the root filesystem."""
    folder = tmp_path_factory.mktemp("trixie-in-place")
    with unpacked_root(folder / "root") as root:
        debian = Debian(root, {**SECRETS, **old_database.env}, "")
        copy_wheels(root, old_wheels)
        copy_wheels(root, new_wheels)
        install_old_packages(debian)
        # And what Debian 11's pip left in Python 3.9's folder, as an upgrade leaves it.
        old_packages = "usr/local/lib/python3.9"
        shutil.copytree(old_site["debian"].root / old_packages, root / old_packages)
        old_settings = (REPLICA / "mailman-web.py").read_text()
        (root / "etc/mailman3/mailman-web.py").write_text(old_settings)
        new_settings(root, replica_cas)  # step 2
        # Step 3, with the option Debian 13's pip needs (Debian 11's did not).
        [uninstall] = doc_commands("pip3 uninstall")
        checked_in(debian, "sh", "-c", f"{uninstall} --break-system-packages")
        install_bundle(debian)  # step 5
        missing = missing_bundle_files(debian)
        cleanup = re.search(r"`(rm -r [^`]+)`", UPGRADE_DOC).group(1)
        checked_in(debian, "sh", "-c", " ".join(cleanup.split()))
        left = sorted(path.name for path in (root / old_packages / "dist-packages").iterdir())
        found = upgrade_and_log_in(debian, old_database, folder / "runserver.log")
        found = {
            "missing after install": missing,
            "missing after clean-up": missing_bundle_files(debian),
            "left in python3.9": left,
            **found,
        }
    yield found


def the_wrong_order(debian: Debian, wheels: Path) -> dict:
    """(c) The old packages back, the bundle installed over them; what the check says."""
    install_old_packages(debian)
    wheel = next(wheels.glob("crans_mailman_web-*.whl")).name
    reinstall = ["python3", "-m", "pip", "install", "--break-system-packages"]
    reinstall += ["--force-reinstall", "--no-deps", f"/tmp/wheels/{wheel}"]
    found = {"install": checked_in(debian, *reinstall).stdout}
    found["check"] = mailman_web(debian, "mailman-web check")
    hint = re.search(r"Run `(pip uninstall [^`]+)`", found["check"].stderr)
    command = hint.group(1) if hint else "pip uninstall -y " + " ".join(OLD_DISTRIBUTIONS)
    found["uninstall"] = checked_in(debian, "sh", "-c", f"{command} --break-system-packages")
    checked_in(debian, *reinstall)
    found["missing after the reinstall"] = missing_bundle_files(debian)
    found["check after"] = mailman_web(debian, "mailman-web check")
    return found


@pytest.fixture(scope="module")
def wrong_order(fresh) -> dict:
    return fresh["wrong order"]


def normalised(state: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """``state`` with the CAS usernames as the bundle's provider reads them."""
    cas = sorted((user, provider, uid.strip().lower()) for user, provider, uid in state["cas"])
    return {**state, "cas": cas}


def test_crans_upgrade_refuses_two_old_uids_of_one_member_naming_both(fresh, old_site):
    alice = old_site["logged_in"]["alice"][0]
    duplicate = next(row for row in fresh["refused"]["state"]["users"] if row[1] == "alice2")
    for line in doc_commands("crans_upgrade --check"):
        result = fresh["refused"][line]
        assert result.returncode != 0, result.stdout
        text = result.stdout + result.stderr
        assert f"'alice' (id {alice}" in text, text
        assert f"'alice2' (id {duplicate[0]}" in text, text
        assert "Nothing was changed." in text or line.endswith("--check"), text
    # Nothing changed, Bob's row included.
    assert "Bob" in {uid for _, _, uid in fresh["refused"]["state"]["cas"]}


@pytest.mark.parametrize("way", ["fresh", "in_place"])
def test_crans_upgrade_then_the_docs_steps_run(way, request):
    found = request.getfixturevalue(way)
    for line in doc_commands("crans_upgrade --check") + doc_commands("mailman-web migrate"):
        if line in found and "crans_doctor" not in line:
            result = found[line]
            assert result.returncode == 0, f"{line}:\n{result.stdout}\n{result.stderr}"
    assert "Bob" in found["mailman-web crans_upgrade --check"].stdout
    assert "Nothing left of the old site to fix." in found["second run"].stdout


@pytest.mark.parametrize("way", ["fresh", "in_place"])
def test_every_member_lands_in_their_account_with_their_data(way, request, old_site):
    found = request.getfixturevalue(way)
    assert found["logged in"] == {
        "alice": old_site["logged_in"]["alice"],
        "Bob": old_site["logged_in"]["Bob"],
        "carol": old_site["logged_in"]["carol"],
    }
    before, after = normalised(old_site["state"]), found["state"]
    assert after["users"] == before["users"]  # no second account
    assert after["cas"] == before["cas"]
    assert after["votes"] == before["votes"]
    assert after["favorites"] == before["favorites"]
    assert after["addresses"] == before["addresses"]
    assert CAROL_SECOND in found["addresses page"]


# crans_doctor's checks that need what the replica has not: Mailman core (core, lists,
# archiver), an SMTP server, django-q's cluster running (tasks), Crans' Site and host
# (site, crans_set_site is not an upgrade step), https (deploy) and Crans' CAS (cas).
NO_PEER_IN_THE_REPLICA = {"core", "lists", "archiver", "smtp", "tasks", "site", "deploy", "cas"}


@pytest.mark.parametrize("way", ["fresh", "in_place"])
def test_crans_doctor_is_green_after_the_steps(way, request):
    doctor = request.getfixturevalue(way)["doctor"]
    upgrade = {"old-packages", "old-uids", "old-tasks", "old-index"}
    rebuilt = {"database", "settings", "static", "compress", "translations", "search"}
    assert upgrade | rebuilt <= set(doctor)
    not_ok = {name: check for name, check in doctor.items() if check["status"] != "ok"}
    assert set(not_ok) <= NO_PEER_IN_THE_REPLICA, not_ok


def test_removing_the_old_packages_first_leaves_the_bundle_whole(in_place):
    assert in_place["missing after install"] == []
    assert in_place["missing after clean-up"] == []
    old = ("allauth_cas", "mailman_crans_theme")
    assert [name for name in in_place["left in python3.9"] if name.startswith(old)] == []


def test_the_bundle_over_the_old_packages_is_stopped_by_the_system_check(wrong_order):
    assert "Successfully installed" in wrong_order["install"]
    check = wrong_order["check"]
    assert check.returncode == 1
    assert "crans.E008" in check.stderr
    for name in OLD_DISTRIBUTIONS:
        assert name in check.stderr
    assert "pip uninstall" in check.stderr


def test_following_the_system_check_gives_the_bundle_back_whole(wrong_order):
    # The uninstall the check names may delete the bundle's files of the same names (as it
    # warns); the reinstall it names then gives the whole bundle back.
    assert "Successfully uninstalled mailman-crans-theme" in wrong_order["uninstall"].stdout
    assert wrong_order["missing after the reinstall"] == []
    check = wrong_order["check after"]
    assert check.returncode == 0, check.stderr
