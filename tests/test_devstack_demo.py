"""What ``devstack.demo`` sets up: its administrator; its web server's error pages and files."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client

from devstack.demo import (
    ADMIN_USERNAME,
    DISCUSSION,
    HOST,
    LISTS,
    MAIL_DOMAIN,
    create_admin,
    create_lists,
    set_site,
    start_manage,
    web_server_command,
)
from devstack.processes import free_port, stop_process, wait_for_http


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
