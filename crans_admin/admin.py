"""Admin pages of crans_admin: the current Site, superuser actions on users."""
