"""Writes of generation data. Views, API classes and consumers call these and nothing else."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import ApiToken, User
from generation import edits, runtime
from generation.adapters.line import Admission, queue_admission
from generation.blocklist import blocked_phrase_in
from generation.events import JobStatus, finished_event
from generation.manager.types import JobKind, batch_variant, job_work
from generation.metrics import JOBS_FINISHED, JOBS_REFUSED, JOBS_SUBMITTED
from generation.models import Background, GenerationJob, Style
from generation.queueing import Places, place_of
from generation.selectors import job_snapshot, style_default
from generation.webhooks import webhook_enqueue

if TYPE_CHECKING:
    from PIL.Image import Image

logger = logging.getLogger(__name__)

MAX_SEED = 2**32 - 1


class QueueLimitReached(Exception):
    """A limit on unfinished jobs; the API answers 429 with this message."""

    def __init__(self, message: str, *, limit: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit
        self.retry_after = retry_after


@dataclass
class JobCreated:
    """The new job, and the places in line read when it was announced (after the commit), so
    the answer to the request that queued it need not read the whole queue a second time.
    ``places`` stays None while an outer transaction delays the commit."""

    job: GenerationJob
    places: Places | None = None


class JobAlreadyFinished(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def _check_limits(owner: User) -> Admission:
    """Inside the creating transaction, with the owner's row locked, so two requests at once
    cannot both slip under the per-user limit (PostgreSQL; SQLite's BEGIN IMMEDIATE already
    lets one writer in at a time). Returns what the job's fair tags are made from."""
    if connection.features.has_select_for_update:
        get_user_model().objects.select_for_update().filter(pk=owner.pk).exists()
    admission = queue_admission(owner.pk)
    per_user = settings.WEE_WAA_MAX_UNFINISHED_PER_USER
    unfinished = admission.unfinished_mine
    if unfinished >= per_user:
        JOBS_REFUSED.labels(limit="per_user").inc()
        raise QueueLimitReached(
            ngettext(
                "You already have %(count)d picture waiting or being drawn. Wait for it to finish, "
                "or cancel it, then try again.",
                "You already have %(count)d pictures waiting or being drawn. Wait for one to finish, "
                "or cancel one, then try again.",
                unfinished,
            )
            % {"count": unfinished},
            limit="per_user",
            retry_after=10,
        )
    if admission.queued >= settings.WEE_WAA_MAX_QUEUE:
        JOBS_REFUSED.labels(limit="global").inc()
        raise QueueLimitReached(
            _("The studio is very busy right now: the line is full. Try again in a minute."),
            limit="global",
            retry_after=60,
        )
    return admission


def job_create(
    *,
    owner: User,
    prompt: str,
    count: int = 1,
    width: int | None = None,
    height: int | None = None,
    steps: int | None = None,
    seed: int | None = None,
    style: Style | None = None,
    api_token: ApiToken | None = None,
    source_image: Background | None = None,
    strength: float | None = None,
    mask: Image | None = None,
) -> JobCreated:
    """Write the job ``queued`` first; the manager hears of it only after the commit, so it
    never looks for a row that is not there yet. Every way to queue a job (the jobs API,
    "generate similar") passes the blocklist here, so none can skip it.

    ``api_token``: the token a program queued the job with (None from the studio); its
    webhook hears when the job finishes.

    ``source_image``: an edit of that picture (the caller has checked the user may see it),
    changed by ``strength`` (snapped to a step of 0.05), inside ``mask`` (an "L" image at the
    job's size, white = change) when one is given. The job keeps its own copy of both files and
    the chain of edits before it as text."""
    prompt = prompt.strip()
    if blocked_phrase_in(prompt):
        raise ValidationError(
            {
                "prompt": _(
                    "This prompt contains a word or phrase this studio does not allow. "
                    "Please describe the scene differently."
                )
            }
        )
    style = style or style_default()
    job = GenerationJob(
        owner=owner,
        style=style,
        prompt=prompt,
        full_prompt=style.render_prompt(prompt) if style else prompt,
        negative_prompt=style.negative_prompt if style else "",
        guidance_scale=style.guidance_scale if style else 0.0,
        steps=steps or (style.default_steps if style else 4),
        width=width or (style.default_width if style else 512),
        height=height or (style.default_height if style else 512),
        count=count,
        # The seed is fixed at submit time so provenance always names the seed that drew it.
        seed=seed if seed is not None else secrets.randbelow(MAX_SEED - 8),
        api_token=api_token,
        adapter=style.adapter_snapshot() if style else {},
    )
    if source_image is not None:
        job.kind = JobKind.INPAINT if mask is not None else JobKind.EDIT
        job.source_image = source_image
        job.strength = edits.strength_bucket(strength if strength is not None else edits.DEFAULT_STRENGTH)
        job.provenance = list(edits.provenance_for(source_image, owner))
    job.batch_variant = batch_variant(
        job.kind, job.strength, str(job.adapter.get("key", "")), float(job.adapter.get("weight", 1.0))
    )
    created = JobCreated(job)
    with transaction.atomic():
        admission = _check_limits(owner)
        # Tagged with the owner's row locked (by _check_limits), so the owner's jobs line up.
        job.fair_tag, job.fair_finish = admission.tags(job_work(job.count, job.width, job.height, job.steps))
        try:  # the files last, and gone again if the row is not written: nothing half-saved
            if source_image is not None:
                _save_edit_files(job, source_image, mask)
            job.save()
        except BaseException:
            _remove_edit_files(job)
            raise
        transaction.on_commit(runtime.notify_new_job)
        transaction.on_commit(lambda: _announce(created))
    JOBS_SUBMITTED.inc()
    return created


def _save_edit_files(job: GenerationJob, source: Background, mask: Image | None) -> None:
    job.source_file.save(f"{job.id}.png", edits.source_copy(source, f"{job.id}.png"), save=False)
    if mask is not None:
        job.mask.save(f"{job.id}.png", edits.png_file(mask, f"{job.id}.png"), save=False)


def _remove_edit_files(job: GenerationJob) -> None:
    for field in (job.source_file, job.mask):
        if field:
            field.storage.delete(field.name)


def api_token_from(auth: object) -> ApiToken | None:
    """The API token a request signed in with, from DRF's ``request.auth`` (None for a
    session, or under any other authentication)."""
    return auth if isinstance(auth, ApiToken) else None


def _announce(created: JobCreated) -> None:
    """Tell the owner's other tabs about the new job at once, and everyone whose place in line
    it changed shortly after, from the announcer's thread (one announcement covers a burst); a
    lost message only delays a card."""
    job = created.job
    try:
        places = created.places = place_of(job)
        process = runtime.current()
        process.publisher.publish(job.owner_id, job_snapshot(job, places))
        process.announcer.soon()
    except Exception:
        logger.exception("Could not announce job %s", job.id)


def job_cancel(*, job: GenerationJob) -> GenerationJob:
    """A queued job ends ``cancelled`` at once. A running one is flagged: the worker drawing it
    (in this process or another) drops it at its next step and marks it ``cancelled``."""
    now = timezone.now()
    with transaction.atomic():
        if GenerationJob.objects.filter(id=job.id, status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED, finished_at=now
        ):
            webhook_enqueue(job.id)
            transaction.on_commit(lambda: _announce_cancelled(job))
        elif GenerationJob.objects.filter(id=job.id, status=JobStatus.RUNNING).update(cancel_requested=True):
            transaction.on_commit(lambda: runtime.notify_cancel(job.id))
        else:
            job.refresh_from_db(fields=["status"])
            raise JobAlreadyFinished(job.status)
    job.refresh_from_db()
    return job


def _announce_cancelled(job: GenerationJob) -> None:
    JOBS_FINISHED.labels(status=JobStatus.CANCELLED.value).inc()
    try:
        process = runtime.current()
        process.publisher.publish(job.owner_id, finished_event(job_id=job.id, status=JobStatus.CANCELLED))
        process.announcer()
    except Exception:
        logger.exception("Could not announce the cancel of job %s", job.id)


def background_keep(*, image: Background) -> Background:
    """Idempotent: keeping twice keeps the first date (the gallery order stays stable).
    A kept background counts towards its owner's picture quota (``gallery.limits``)."""
    if image.kept_at is None:
        from gallery.limits import picture_quota_check  # gallery builds on generation, not back

        picture_quota_check(user_id=image.job.owner_id)
        image.kept_at = timezone.now()
        Background.objects.filter(id=image.id, kept_at__isnull=True).update(kept_at=image.kept_at)
        image.refresh_from_db(fields=["kept_at"])
    return image
