"""What ``devstack.demo`` sets up: its administrator; its web server's error pages and files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client

from devstack.demo import (
    ADMIN_USERNAME,
    DEMO_VARIABLES,
    DISCUSSION,
    HOST,
    LISTS,
    MAIL_DOMAIN,
    REPO,
    create_admin,
    create_lists,
    set_site,
    start_manage,
    web_server_command,
    write_environment,
)
from devstack.processes import free_port, stop_process, wait_for_http, wait_until


def test_the_demo_shows_the_themed_404_page_and_serves_static_files(
    run_manage, manage_environment, tmp_path: Path
):
    run_manage("migrate", "--verbosity", "0")
    port = free_port()
    site = f"http://{HOST}:{port}"
    log = tmp_path / "runserver.log"
    environment = {**manage_environment, "MAILMAN_WEB_DEBUG": "0"}  # as the demo runs it
    server = start_manage(web_server_command(port), environment, log)
    try:
        wait_for_http(f"{site}/accounts/login/", 60, server, log)
        page = requests.get(f"{site}/archives/list/nobody@lists.example.crans/", timeout=30)
        assert page.status_code == 404
        assert "There is no page at this address" in page.text  # the theme's 404.html
        assert "Traceback" not in page.text and "URLconf" not in page.text
        # The web server's log has the request line, to find a 404 or 500 afterwards.
        request_line = '"GET /archives/list/nobody@lists.example.crans/ HTTP/1.1" 404 '
        wait_until(lambda: request_line in log.read_text(), f"{request_line} in {log}", 10)
        stylesheet = requests.get(f"{site}/static/mailman_crans_theme/css/crans.css", timeout=30)
        assert stylesheet.status_code == 200
        assert stylesheet.headers["Content-Type"].startswith("text/css")
    finally:
        stop_process(server)


@pytest.mark.django_db
def test_the_demo_administrator_is_a_superuser_who_can_log_in():
    create_admin("first-password")
    create_admin("second-password")  # a second run of the demo
    admin = get_user_model().objects.get(username=ADMIN_USERNAME)
    assert admin.is_superuser and admin.is_staff and admin.is_active
    client = Client()
    assert client.login(username=ADMIN_USERNAME, password="second-password")
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_the_demo_maps_its_mail_domain_to_its_site_before_posting(mailman_core):
    from django_mailman3.models import MailDomain
    from hyperkitty.models import MailingList
    from hyperkitty.views.mailman import _get_url

    from crans_admin.doctor.registry import Status
    from crans_admin.doctor.site import check_site

    set_site(f"{HOST}:8000")
    create_lists(mailman_core.client())
    assert MailDomain.objects.get(mail_domain=MAIL_DOMAIN).site.domain == f"{HOST}:8000"
    # The links core puts in mail (Archived-At, List-Archive, the footer's).
    assert _get_url(DISCUSSION.address).startswith(f"https://{HOST}:8000/archives/")
    for demo_list in LISTS:
        MailingList.objects.create(name=demo_list.address)
    finding = check_site(10.0)
    assert finding.status == Status.OK, finding


def test_the_doctor_run_from_the_clone_with_the_demos_environment_reads_the_demo(
    manage_environment, run_manage, smtp_sink, tmp_path: Path
):
    """The docs' command (``set -a; . var/demo.env; set +a``, then manage.py) sees the demo."""
    local_dir = Path(manage_environment["MAILMAN_WEB_LOCAL_DIR"])
    run_manage("migrate", "--verbosity", "0")
    cfg = local_dir / "mailman-core" / "hyperkitty.cfg"  # where the demo's core keeps it
    cfg.parent.mkdir(parents=True)
    cfg.write_text("[general]\nbase_url: http://127.0.0.1:9/archives/\napi_key: k\n")
    env_file = tmp_path / "demo.env"
    demo_env = {
        **manage_environment,
        "MAILMAN_WEB_DEBUG": "0",
        "MAILMAN_WEB_EMAIL_PORT": str(smtp_sink.port),
        "CRANS_CAS_SERVER_URL": "http://127.0.0.1:8002/cas/",
    }
    write_environment(demo_env, env_file)
    shell = {key: value for key, value in manage_environment.items() if key not in DEMO_VARIABLES}
    result = subprocess.run(
        [
            "bash",
            "-c",
            f'set -a; . "$1"; set +a; exec "{sys.executable}" "{REPO / "manage.py"}" '
            "crans_doctor --json --check deploy --check smtp --check archiver",
            "doctor",
            str(env_file),
        ],
        env=shell,
        capture_output=True,
        text=True,
        timeout=300,
    )
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["deploy"]["status"] == "ok", checks["deploy"]  # DEBUG off, http accepted
    assert checks["smtp"]["status"] == "ok", checks["smtp"]  # the demo's sink
    assert str(cfg) in checks["archiver"]["seen"], checks["archiver"]
