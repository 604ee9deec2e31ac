"""The bundle's Django admin: its admin site (``site.py``, made the default one by
``apps.CransAdminSiteConfig``) and its pages for the Site, users and groups, and lists."""
