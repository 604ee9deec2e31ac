"""Renaming a mailing list, on mailman-web's side and on Mailman core's.

- :mod:`.names`: posting addresses and list-ids, checked as Mailman does;
- :mod:`.plan`: everything checked and counted before anything changes (the
  dry run, the admin's report);
- :mod:`.core`: Mailman core's side (its database, its folders, its options);
- :mod:`.web`: the web database's rows; :mod:`.search`: the search index;
- :mod:`.journal`: every rename is recorded before anything moves, step by
  step, so that a rename interrupted anywhere can be resumed or rolled back;
- :mod:`.steps`: the steps, each of which first looks at what is done already,
  and the functions that run them (rename, resume, rollback);
- :mod:`.aliases`: the Postfix map that keeps mail to old addresses arriving;
- :mod:`.redirects`: old URLs of a renamed list answer 301 to the new ones.
"""
