"""Adds User.username_skeleton (unique), filled from each username.

Accounts that already look alike keep working: the oldest gets the skeleton, the others keep
NULL (a unique column allows many) until they are renamed.
"""

from typing import Any

from django.db import migrations, models


def fill_skeletons(apps: Any, schema_editor: Any) -> None:
    from accounts.models import username_skeleton

    User = apps.get_model("accounts", "User")
    taken: set[str] = set()
    for user in User.objects.order_by("date_joined", "id").only("id", "username").iterator():
        skeleton = username_skeleton(user.username)
        if skeleton in taken:
            continue
        taken.add(skeleton)
        User.objects.filter(pk=user.pk).update(username_skeleton=skeleton)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_skeleton",
            field=models.CharField(editable=False, max_length=255, null=True, verbose_name="username skeleton"),
        ),
        migrations.RunPython(fill_skeletons, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="username_skeleton",
            field=models.CharField(
                editable=False, max_length=255, null=True, unique=True, verbose_name="username skeleton"
            ),
        ),
    ]
