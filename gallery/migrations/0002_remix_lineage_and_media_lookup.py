"""Remix lineage (every ancestor of a remix, so visibility can ask about all of them at once),
the takedown cascade's bookkeeping, indexed file names for the media view, and a creation that
goes with its background instead of blocking the deletion of its user."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def fill_ancestors(apps: Any, schema_editor: Any) -> None:
    """Existing remixes: walk each ``remixed_from`` chain once (a chain only points to older
    rows, but the walk stops at a repeat anyway)."""
    Creation = apps.get_model("gallery", "Creation")
    source_of = dict(Creation.objects.filter(remixed_from__isnull=False).values_list("id", "remixed_from_id"))
    Lineage = Creation.ancestors.through
    rows = []
    for creation_id, source_id in source_of.items():
        seen: set[str] = set()
        while source_id is not None and source_id not in seen:
            seen.add(source_id)
            rows.append(Lineage(from_creation_id=creation_id, to_creation_id=source_id))
            source_id = source_of.get(source_id)
    Lineage.objects.bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0001_creations"),
        ("generation", "0004_blocked_phrases"),
    ]

    operations = [
        migrations.AddField(
            model_name="creation",
            name="ancestors",
            field=models.ManyToManyField(
                blank=True, related_name="descendants", to="gallery.creation", verbose_name="remixed from"
            ),
        ),
        migrations.AddField(
            model_name="creation",
            name="hidden_with",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="gallery.creation",
                verbose_name="hidden with",
            ),
        ),
        migrations.AlterField(
            model_name="creation",
            name="background",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="creations",
                to="generation.background",
                verbose_name="background",
            ),
        ),
        migrations.AlterField(
            model_name="creation",
            name="image",
            field=models.ImageField(blank=True, db_index=True, upload_to="creations/", verbose_name="picture"),
        ),
        migrations.AlterField(
            model_name="creation",
            name="thumbnail",
            field=models.ImageField(blank=True, db_index=True, upload_to="creations/thumbs/", verbose_name="thumbnail"),
        ),
        migrations.RunPython(fill_ancestors, migrations.RunPython.noop),
    ]
