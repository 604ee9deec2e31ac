# Run in the old site's ``manage.py shell`` (Debian 11): a list with archived emails, the
# members' votes and a favourite, a local superuser. Prints the ids it made, as JSON.
import json
from email.message import EmailMessage

from django.contrib.auth.models import User
from django.contrib.sites.models import Site
from django_mailman3.models import MailDomain
from hyperkitty.lib.incoming import add_to_list
from hyperkitty.models import Email, Favorite, Vote

MailDomain.objects.get_or_create(site=Site.objects.get_current(), mail_domain="lists.crans.org")
for number in range(1, 4):
    message = EmailMessage()
    message["From"] = "Alice <alice@example.org>"
    message["Subject"] = f"Assemblee generale {number}"
    message["Message-ID"] = f"<replica-{number}@crans.org>"
    message["Date"] = f"Mon, 05 Apr 2021 1{number}:00:00 +0200"
    message.set_content(f"Ordre du jour {number}")
    add_to_list("membres@lists.crans.org", message)

# (No generator expressions: ``shell`` runs this with exec(), whose comprehensions
# do not see the script's names.)
alice = User.objects.get(username="alice")
bob = User.objects.get(username="Bob")
carol = User.objects.get(username="carol")
first = Email.objects.get(message_id="replica-1@crans.org")
second = Email.objects.get(message_id="replica-2@crans.org")
Vote.objects.create(email=first, user=alice, value=1)
Vote.objects.create(email=first, user=bob, value=-1)
Vote.objects.create(email=second, user=bob, value=1)
Favorite.objects.create(thread=first.thread, user=carol)
User.objects.create_superuser("admin", "admin@example.org", "admin-password")
print(json.dumps({"emails": Email.objects.count()}))
