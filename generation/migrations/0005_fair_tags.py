"""Fair-queue tags on jobs, and tags for the jobs already waiting when this runs.

Existing unfinished jobs get tags as if each owner's had been queued one after another from
an empty line (the ones drawing first), so every user's first waiting job starts level: the
round-robin they were promised before, now weighted by work.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import migrations, models


def tag_waiting_jobs(apps: Any, schema_editor: Any) -> None:
    job_model = apps.get_model("generation", "GenerationJob")
    unfinished = job_model.objects.filter(status__in=["queued", "running"])
    rows = unfinished.order_by("owner_id", "created_at", "id").only(
        "id", "owner_id", "status", "count", "width", "height", "steps"
    )
    per_owner: dict[Any, list[Any]] = {}
    for job in rows.iterator():
        per_owner.setdefault(job.owner_id, []).append(job)
    tagged = []
    for jobs in per_owner.values():
        finish = 0.0
        for job in sorted(jobs, key=lambda job: job.status != "running"):  # stable: keeps created order
            job.fair_tag = finish
            finish = job.fair_finish = finish + job.count * job.width * job.height * job.steps / 1e6
            tagged.append(job)
    job_model.objects.bulk_update(tagged, ["fair_tag", "fair_finish"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("generation", "0004_blocked_phrases"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="generationjob",
            name="fair_finish",
            field=models.FloatField(db_index=True, default=0.0, verbose_name="fair queue finish tag"),
        ),
        migrations.AddField(
            model_name="generationjob",
            name="fair_tag",
            field=models.FloatField(default=0.0, verbose_name="fair queue tag"),
        ),
        migrations.AddIndex(
            model_name="generationjob",
            index=models.Index(fields=["status", "fair_tag", "created_at"], name="generation__status_25c7e6_idx"),
        ),
        migrations.AddIndex(
            model_name="generationjob",
            index=models.Index(fields=["owner", "fair_finish"], name="generation__owner_i_56db3e_idx"),
        ),
        migrations.RunPython(tag_waiting_jobs, migrations.RunPython.noop),
    ]
