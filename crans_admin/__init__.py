"""Administration of Crans' mailman-web: the site, superusers and list renames."""
