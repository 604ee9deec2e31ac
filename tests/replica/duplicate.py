# Run in the old site's ``manage.py shell`` (Debian 11) on a copy of its database: the
# extra row django-allauth-cas made when the CAS once returned "ALICE" for another account.
import json

from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import User

other = User.objects.create_user("alice2", "alice2@example.org")
other.set_unusable_password()
other.save()
SocialAccount.objects.create(user=other, provider="crans", uid="ALICE", extra_data={"uid": "ALICE"})
print(json.dumps({"duplicate": other.pk}))
