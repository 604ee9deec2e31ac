"""rename_list on the web side: real hyperkitty archives, postorius templates and Whoosh index."""

import io
import os
import pty
import re

import psycopg2
import pytest
from django.contrib.sites.models import Site
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation
from django_mailman3.models import MailDomain
from hyperkitty.models import Attachment, Email, Favorite, MailingList, Thread, Vote
from postorius.models import EmailTemplate
from whoosh import index as whoosh_index

from crans_admin.rename import (
    CoreOptions,
    ListName,
    RenameError,
    apply_rename,
    parse_list_name,
    plan_rename,
    unfinished_renames,
)
from tests.fixtures.archives import (
    database_changes,
    nothing_changes,
    search,
    search_page,
    snapshot_folder,
)
from tests.fixtures.archives import (
    snapshot_without_journal as snapshot_database,
)

OLD = "tresorier@lists.crans.org"
NEW = "tresorerie@lists.crans.org"
SEPARATELY = "--core-renamed-separately"
PUT_BACK = "web_rows .*everything was put back"


# No Mailman core answers: web-only renames must be told that core is renamed apart.
pytestmark = pytest.mark.usefixtures("silent_core")


def rename(*args: str) -> str:
    """Run rename_list (web-only renames say that core is renamed separately)."""
    if "--core-var-dir" not in args:
        args = (*args, SEPARATELY)
    out = io.StringIO()
    call_command("rename_list", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def template_of_the_new_list_id(name: str) -> None:
    """A French template ``name`` of the list-id tresorerie (QuerySet: no call to core)."""
    EmailTemplate.objects.bulk_create(
        [
            EmailTemplate(
                name=name,
                data="Autre",
                language="fr",
                context="list",
                identifier="tresorerie.lists.crans.org",
            )
        ]
    )


@pytest.fixture
def old_folder(attachment_folder):
    return attachment_folder / "lists.crans.org" / "tresorier"


def test_rename_moves_the_list_and_nothing_else(archives, client, old_folder, attachment_folder):
    tresorier = archives.tresorier
    assert search_page(client, OLD) == archives.word_count
    assert search_page(client, archives.bureau.name) == 1
    emails = set(tresorier.emails.values_list("pk", flat=True))
    threads = set(tresorier.threads.values_list("pk", flat=True))
    attachment_files = snapshot_folder(old_folder)
    assert len(attachment_files) == 1
    before = snapshot_database()

    output = rename(OLD, "tresorerie.lists.crans.org", "--display-name", "Trésorerie")

    mailing_list = MailingList.objects.get(pk=tresorier.pk)
    assert (
        mailing_list.name,
        mailing_list.list_id,
        mailing_list.display_name,
        mailing_list.subject_prefix,
        mailing_list.description,
    ) == (NEW, "tresorerie.lists.crans.org", "Trésorerie", "[Trésorerie] ", "Les finances")
    templates = {
        (template.pk, template.identifier)
        for template in EmailTemplate.objects.filter(data__in=["Trésorerie", "Bienvenue"])
    }
    assert {identifier for _pk, identifier in templates} == {"tresorerie.lists.crans.org"}
    # Nothing else moved: only those fields of those rows differ.
    expected = {
        ("hyperkitty_mailinglist", tresorier.pk, field)
        for field in ("name", "list_id", "display_name", "subject_prefix")
    } | {("postorius_emailtemplate", pk, "identifier") for pk, _identifier in templates}
    assert database_changes(before, snapshot_database()) == expected
    # The archives follow by id.
    assert set(Email.objects.filter(mailinglist__name=NEW).values_list("pk", flat=True)) == emails
    assert set(Thread.objects.filter(mailinglist__name=NEW).values_list("pk", flat=True)) == threads
    assert Vote.objects.filter(email__mailinglist__name=NEW).count() == 2
    assert Favorite.objects.filter(thread__mailinglist__name=NEW).count() == 1
    assert list(mailing_list.owners.all()) == [archives.alice]
    assert list(mailing_list.moderators.all()) == [archives.bob]
    assert not MailingList.objects.filter(name=OLD).exists()
    # Attachments: the folder moved, and hyperkitty finds the file under the new name.
    assert not old_folder.exists()
    new_folder = attachment_folder / "lists.crans.org" / "tresorerie"
    assert snapshot_folder(new_folder) == attachment_files
    attachment = Attachment.objects.get(email__mailinglist=mailing_list)
    assert attachment.content is None
    assert attachment.get_content() == archives.attachment_content
    # Search: the renamed list finds its old messages, nothing is left under the old name,
    # the other list is untouched.
    assert search_page(client, NEW) == archives.word_count
    assert search(NEW) == archives.word_count
    assert search(OLD) == 0
    assert search_page(client, archives.bureau.name) == 1
    # The report says what was done.
    assert f"Renamed {OLD} to {NEW}:" in output
    assert f"hyperkitty_mailinglist #{tresorier.pk}: name '{OLD}' -> '{NEW}'" in output
    assert (
        "postorius_emailtemplate: 2 row(s): identifier 'tresorier.lists.crans.org' -> "
        "'tresorerie.lists.crans.org'" in output
    )
    assert "5 email(s), 3 thread(s), 1 attachment(s), 2 vote(s), 1 favorite(s)" in output
    assert f"folder {old_folder} -> {new_folder}" in output
    assert f"search index: 5 email(s) reindexed under {NEW}" in output
    assert "Mailman core is renamed separately" in output


def test_rename_is_logged(archives, caplog):
    with caplog.at_level("INFO", logger="crans_admin"):
        rename(OLD, NEW)
    (record,) = [r for r in caplog.records if r.name == "crans_admin.rename.steps"]
    assert record.levelname == "INFO"
    message = record.getMessage()
    assert message.startswith(f"List {OLD} renamed to {NEW} by ")
    assert "through the rename_list command" in message
    assert "postorius_emailtemplate: 2 row(s)" in message


def test_dry_run_prints_every_change_and_changes_nothing(archives, client, attachment_folder):
    with nothing_changes(attachment_folder):
        output = rename(OLD, NEW, "--dry-run")

    assert search(OLD) == archives.word_count
    assert search(NEW) == 0
    pk = archives.tresorier.pk
    assert output.splitlines() == [
        f"Dry run, nothing is changed. Renaming {OLD} to {NEW} would do:",
        f"  hyperkitty_mailinglist #{pk}: name '{OLD}' -> '{NEW}'",
        f"  hyperkitty_mailinglist #{pk}: list_id 'tresorier.lists.crans.org' -> "
        "'tresorerie.lists.crans.org'",
        f"  hyperkitty_mailinglist #{pk}: display_name 'Tresorier' -> 'Tresorerie'",
        f"  hyperkitty_mailinglist #{pk}: subject_prefix '[Tresorier] ' -> '[Tresorerie] '",
        "  postorius_emailtemplate: 2 row(s): identifier 'tresorier.lists.crans.org' -> "
        "'tresorerie.lists.crans.org'",
        f"  unchanged, they follow list #{pk} by its id: 5 email(s), 3 thread(s), "
        "1 attachment(s), 2 vote(s), 1 favorite(s), 1 owner(s), 1 moderator(s)",
        f"  folder {attachment_folder}/lists.crans.org/tresorier -> "
        f"{attachment_folder}/lists.crans.org/tresorerie",
        f"  search index: 5 email(s) reindexed under {NEW}",
        "  Mailman core: not part of this rename; its REST API could not be asked about "
        "tresorier.lists.crans.org (core is renamed separately)",
    ]


def test_the_french_report_is_french_on_every_line(archives):
    english = {"dry run": rename(OLD, NEW, "--dry-run"), "rename": rename(OLD, NEW)}
    rename(NEW, OLD)
    with translation.override("fr"):
        french = {"dry run": rename(OLD, NEW, "--dry-run"), "rename": rename(OLD, NEW)}
    for run, lines in french.items():
        pairs = list(zip(lines.splitlines(), english[run].splitlines(), strict=True))
        assert [line for line, other in pairs if line == other] == [], run
    pk = archives.tresorier.pk
    assert f"  hyperkitty_mailinglist #{pk} : name passe de '{OLD}' à '{NEW}'" in french["rename"]


def test_a_web_only_rename_while_core_serves_the_list_says_how_to_rename_core(archives):
    with pytest.raises(CommandError) as refused:
        call_command("rename_list", OLD, NEW, stdout=io.StringIO())
    assert "Cannot ask Mailman core's REST API" in str(refused.value)
    assert "in the same run (--core-var-dir, with core's database URL)" in str(refused.value)
    assert "(--core-renamed-separately)" in str(refused.value)


def test_custom_subject_prefix_is_kept(archives):
    MailingList.objects.filter(pk=archives.tresorier.pk).update(subject_prefix="[Sous] ")
    output = rename(OLD, NEW)
    mailing_list = MailingList.objects.get(pk=archives.tresorier.pk)
    assert (mailing_list.display_name, mailing_list.subject_prefix) == ("Tresorerie", "[Sous] ")
    assert "subject_prefix '[Sous] ' kept (not the default one)" in output


def test_empty_row_made_by_get_or_create_is_merged(archives):
    # What hyperkitty's new_lists_from_mailman job or the archiver API does on seeing the name.
    empty, _created = MailingList.objects.get_or_create(name=NEW)
    empty.owners.add(archives.bob)

    output = rename(OLD, NEW)

    assert not MailingList.objects.filter(pk=empty.pk).exists()
    mailing_list = MailingList.objects.get(name=NEW)
    assert mailing_list.pk == archives.tresorier.pk
    assert mailing_list.emails.count() == 5
    assert set(mailing_list.owners.all()) == {archives.alice, archives.bob}
    assert (
        f"hyperkitty_mailinglist #{empty.pk}: empty row for {NEW} (no email, made by "
        f"get_or_create) merged into #{mailing_list.pk}: 1 owner(s) and 0 moderator(s) "
        "carried over, row deleted" in output
    )
    assert search(NEW) == archives.word_count


def test_a_failure_in_the_last_step_leaves_everything_as_it_was(
    archives, attachment_folder, old_folder
):
    empty, _created = MailingList.objects.get_or_create(name=NEW)
    empty.owners.add(archives.bob)
    plan = plan_rename(OLD, NEW, core_renamed_separately=True)
    # Between the plan and its application, someone gives the new list-id a template that
    # the renamed list's templates collide with: the template update, after the empty row
    # was merged and the list row renamed, fails on postorius' unique constraint.
    template_of_the_new_list_id("list:user:notice:welcome")

    with nothing_changes(attachment_folder), pytest.raises(RenameError, match=PUT_BACK):
        apply_rename(plan, actor="test")

    assert old_folder.is_dir()
    assert search(OLD) == archives.word_count
    assert search(NEW) == 0


def test_a_plan_overtaken_by_events_is_not_applied(archives):
    plan = plan_rename(OLD, NEW, core_renamed_separately=True)
    MailingList.objects.create(name=NEW)
    with nothing_changes(), pytest.raises(RenameError, match="changed since the plan was made"):
        apply_rename(plan, actor="test")


def test_documents_of_deleted_emails_leave_the_old_name(archives):
    # Deleting an email does not touch the index (mailman-web has no realtime signal
    # processor): its document stays filed under the list's name.
    Email.objects.filter(message_id="m2@crans.org").delete()
    assert search(OLD) == archives.word_count

    output = rename(OLD, NEW)

    assert search(OLD) == 0
    assert search(NEW) == archives.word_count - 1
    assert f"1 document(s) of deleted emails removed from under {OLD}" in output
    assert search("bureau@lists.crans.org") == 1


def run_on_terminal(*args, **options) -> str:
    """Run rename_list with its stdout on a pseudo-terminal; return what it showed."""
    controller, terminal = pty.openpty()
    with open(terminal, "w", closefd=True) as stdout:
        call_command("rename_list", *args, stdout=stdout, **options)
    shown = b""
    try:
        while chunk := os.read(controller, 65536):
            shown += chunk
    except OSError:  # EIO: the terminal side is closed and everything was read
        pass
    finally:
        os.close(controller)
    return shown.decode()


def test_progress_shows_on_a_terminal_only(archives):
    shown = run_on_terminal(OLD, NEW, SEPARATELY)
    assert "\rSearch index: 0 / 5 emails\rSearch index: 5 / 5 emails" in shown
    assert f"Renamed {OLD} to {NEW}:" in shown

    assert "Search index:" not in rename(NEW, OLD)
    assert run_on_terminal(OLD, NEW, SEPARATELY, verbosity=0) == ""
    assert MailingList.objects.get(pk=archives.tresorier.pk).name == NEW


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["absent@lists.crans.org", NEW], "No archived list has the posting address"),
        (["absent.lists.crans.org", NEW], "No archived list has the list-id"),
        ([OLD, "bureau@lists.crans.org"], "already exists and has archived emails"),
        ([OLD, OLD], "are the same list"),
        ([OLD, "tresorier.lists.crans.org"], "are the same list"),
        ([OLD, "Tresorier@Lists.Crans.Org"], "are the same list"),
        ([OLD, "tré sor@lists.crans.org"], "Invalid list name 'tré sor'"),
        ([OLD, "tres+orier@lists.crans.org"], "Invalid list name 'tres+orier'"),
        ([OLD, "@lists.crans.org"], "Invalid list name ''"),
        ([OLD, "tresorerie@lists..crans.org"], "Invalid mail domain"),
        ([OLD, "tresorerie@localhost"], "Invalid mail domain 'localhost'"),
        ([OLD, "tresorerie@crans.fr"], "knows no mail domain 'crans.fr'"),
        ([OLD, "tresorerie.crans.fr"], "ends with no known mail domain"),
        ([OLD, NEW, "--display-name", "  "], "The display name is empty"),
        ([OLD, NEW, "--core-db-file", "/etc/mailman3/mailman.cfg"], "--core-db-file goes with"),
        ([OLD, NEW, "--force"], "--force goes with --core-var-dir"),
        ([OLD, NEW, "--core-var-dir", "/nonexistent"], "Give Mailman core's database URL"),
        ([OLD, NEW, "--mailman-bin", "/usr/bin/mailman"], "--mailman-bin goes with --core-var-dir"),
        ([OLD, NEW, "--alias-map", "/etc/postfix/old"], "--alias-map goes with --core-var-dir"),
        ([OLD], "Give OLD and NEW"),
        # Core's database URL never goes on the command line (/proc/PID/cmdline).
        ([OLD, NEW, "--core-db", "postgresql://mailman:secret@db/mailman3"], "unrecognized"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(archives, attachment_folder, args, message):
    with nothing_changes(attachment_folder), pytest.raises(CommandError, match=re.escape(message)):
        rename(*args)


def test_new_list_id_of_another_list_is_refused(archives):
    MailingList.objects.filter(pk=archives.bureau.pk).update(list_id="tresorerie.lists.crans.org")
    with pytest.raises(CommandError, match="already belongs to the archived list bureau@"):
        rename(OLD, NEW)


def test_unknown_domain_is_allowed_explicitly(archives, attachment_folder):
    rename(OLD, "tresorerie@crans.fr", "--new-domain")
    mailing_list = MailingList.objects.get(pk=archives.tresorier.pk)
    assert (mailing_list.name, mailing_list.list_id) == (
        "tresorerie@crans.fr",
        "tresorerie.crans.fr",
    )
    assert (attachment_folder / "crans.fr" / "tresorerie").is_dir()
    assert search("tresorerie@crans.fr") == archives.word_count


def test_list_id_with_dots_is_split_at_the_known_domain():
    domains = {"lists.crans.org"}
    assert parse_list_name("bde.ca.lists.crans.org", domains) == ListName(
        "bde.ca", "lists.crans.org"
    )
    assert parse_list_name(" BDE.CA@Lists.Crans.org", domains) == ListName(
        "bde.ca", "lists.crans.org"
    )
    with pytest.raises(
        RenameError, match=r"ambiguous \(bde@ca.lists.crans.org or bde.ca@lists.crans.org\)"
    ):
        parse_list_name("bde.ca.lists.crans.org", domains | {"ca.lists.crans.org"})


def test_list_ids_against_overlapping_domains(archives):
    """With crans.org known too, OLD is still found by its list-id; NEW must be an address."""
    MailDomain.objects.create(site=Site.objects.get_current(), mail_domain="crans.org")
    with pytest.raises(CommandError, match="ambiguous"):
        rename(OLD, "tresorerie.lists.crans.org")
    rename("tresorier.lists.crans.org", NEW)
    assert MailingList.objects.get(pk=archives.tresorier.pk).name == NEW


def test_existing_attachment_folder_for_the_new_name_is_refused(archives, attachment_folder):
    stray = attachment_folder / "lists.crans.org" / "tresorerie" / "aa"
    stray.mkdir(parents=True)
    (stray / "1").write_bytes(b"stray")
    with pytest.raises(CommandError, match="already exists and is not empty"):
        rename(OLD, NEW)
    assert MailingList.objects.get(pk=archives.tresorier.pk).name == OLD


def test_attachments_in_the_database_need_no_folder(archives, settings):
    del settings.HYPERKITTY_ATTACHMENT_FOLDER
    output = rename(OLD, NEW)
    assert "attachment folder: none (attachments are kept in the database)" in output
    assert MailingList.objects.get(pk=archives.tresorier.pk).name == NEW


# Both databases: the web commit fails after Mailman core committed.

REFUSE_AT_COMMIT = """
CREATE FUNCTION test_refuse_tresorerie() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name = 'tresorerie@lists.crans.org' THEN
        RAISE EXCEPTION 'the web database refuses tresorerie at commit';
    END IF;
    RETURN NEW;
END $$;
CREATE CONSTRAINT TRIGGER test_refuse_tresorerie AFTER UPDATE ON hyperkitty_mailinglist
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_tresorerie();
"""


@pytest.fixture
def refused_at_commit(transactional_db):
    """A deferred constraint of the web database that fails the commit of the rename."""
    with connection.cursor() as cursor:
        cursor.execute(REFUSE_AT_COMMIT)
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP FUNCTION test_refuse_tresorerie() CASCADE")


def core_list_ids(database_url: str) -> list[str]:
    with psycopg2.connect(database_url) as core_db, core_db.cursor() as cursor:
        cursor.execute("SELECT list_id FROM mailinglist ORDER BY list_id")
        return [list_id for (list_id,) in cursor.fetchall()]


def test_web_commit_failure_after_core_commit_undoes_core(
    refused_at_commit, archives, mailman_core, attachment_folder, settings
):
    core = mailman_core
    settings.MAILMAN_REST_API_URL = core.rest_url
    client = core.client()
    core.create_list_with_member("tresorier@lists.crans.org", "alice@crans.org")
    core.stop()
    core_folder = core.var_dir / "lists" / "tresorier.lists.crans.org"
    assert core_folder.is_dir()
    plan = plan_rename(OLD, NEW, core=CoreOptions(core.database_url, core.var_dir))
    assert plan.core is not None

    with nothing_changes(attachment_folder), pytest.raises(RenameError, match=PUT_BACK):
        apply_rename(plan, actor="test")

    assert core_list_ids(core.database_url) == ["tresorier.lists.crans.org"]
    assert core_folder.is_dir()
    assert not (core.var_dir / "lists" / "tresorerie.lists.crans.org").exists()
    core.start()
    assert [member.email for member in client.get_list(OLD).members] == ["alice@crans.org"]


def test_templates_already_given_to_the_new_list_id_are_refused(archives):
    template_of_the_new_list_id("list:member:generic:footer")
    with (
        nothing_changes(),
        pytest.raises(
            CommandError,
            match=r"templates for tresorerie.lists.crans.org: list:member:generic:footer \(fr\)",
        ),
    ):
        rename(OLD, NEW)


def test_a_search_index_update_that_fails_is_resumed(archives, search_index, monkeypatch):
    """The index is locked by another writer (hyperkitty's periodic job): resumed later."""
    monkeypatch.setattr("crans_admin.rename.search_index.WRITER_LOCK_TIMEOUT", 0.5)
    other_writer = whoosh_index.open_dir(str(search_index)).writer()
    try:
        with pytest.raises(CommandError, match="stopped at the step search_index .*--resume"):
            rename(OLD, NEW)
    finally:
        other_writer.cancel()
    assert MailingList.objects.get(pk=archives.tresorier.pk).name == NEW
    assert (search(NEW), search(OLD)) == (0, archives.word_count)
    # Another rename of the list waits; the same command again finishes this one.
    with pytest.raises(CommandError, match="is unfinished: resume it"):
        rename(NEW, "autre@lists.crans.org")
    output = rename(OLD, NEW)
    assert "Resuming the unfinished rename" in output
    assert (search(NEW), search(OLD)) == (archives.word_count, 0)
    assert unfinished_renames() == []


def test_history_shows_past_renames(archives):
    rename(OLD, NEW)
    rename(NEW, "finances@lists.crans.org")
    rename("bureau@lists.crans.org", "direction@lists.crans.org")
    everything = rename("--history")
    lines = [line for line in everything.splitlines() if line.startswith("#")]
    assert len(lines) == 3
    assert f"{NEW} -> finances@lists.crans.org, done, by " in lines[1]
    assert "through the rename_list command" in lines[1]
    of_the_list = rename("--history", OLD).splitlines()
    assert len(of_the_list) == 2
    assert all("bureau" not in line for line in of_the_list)
