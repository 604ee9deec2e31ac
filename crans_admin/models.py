"""The journal of list renames (:mod:`crans_admin.rename.journal` writes and reads it)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy


class ListRename(models.Model):
    """One rename of a list: recorded before anything moves, finished or undone later."""

    RUNNING = "running"
    DONE = "done"
    ROLLED_BACK = "rolled_back"
    STATES = [
        (RUNNING, gettext_lazy("unfinished")),
        (DONE, gettext_lazy("done")),
        (ROLLED_BACK, gettext_lazy("rolled back")),
    ]

    # hyperkitty_mailinglist.id: the row keeps its id through every rename.
    mailing_list_id = models.IntegerField(db_index=True)
    old_name = models.CharField(max_length=254, db_index=True)
    old_list_id = models.CharField(max_length=254, db_index=True)
    new_name = models.CharField(max_length=254)
    new_list_id = models.CharField(max_length=254)
    # Everything needed to carry on or undo (RenamePlan.to_data()), no secret.
    plan = models.JSONField()
    actor = models.CharField(max_length=254)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=STATES, default=RUNNING)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailing_list_id"],
                condition=Q(state="running"),
                name="crans_admin_one_unfinished_rename_per_list",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.old_name} -> {self.new_name} ({self.state})"


class ListRenameStep(models.Model):
    """A step of a rename: started, done, and undone by a rollback."""

    rename = models.ForeignKey(ListRename, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=32)
    started_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    # What undoing the step needs and only the step knows (the alias map before).
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["rename", "name"], name="crans_admin_one_row_per_step")
        ]

    def __str__(self) -> str:
        return f"{self.rename_id}:{self.name}"
