"""Generation data: the job rows are the source of truth for everything the manager does."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from generation.events import JobStatus
from generation.manager.types import JobKind
from wee_waa.ids import PUBLIC_ID_LENGTH, new_public_id


class Style(models.Model):
    """An admin-curated look: how a user's words become the pipeline's prompt."""

    id = models.CharField(primary_key=True, max_length=PUBLIC_ID_LENGTH, default=new_public_id, editable=False)
    name = models.CharField(_("name"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True, help_text=_("Shown under the style in the studio."))
    preview = models.ImageField(_("preview picture"), upload_to="styles/previews/", blank=True)
    prompt_template = models.TextField(_("prompt template"), help_text=_("Use {prompt} where the user's words go."))
    negative_prompt = models.TextField(_("negative prompt"), blank=True)
    default_steps = models.PositiveSmallIntegerField(_("default steps"), default=4)
    guidance_scale = models.FloatField(_("guidance scale"), default=0.0)
    default_width = models.PositiveSmallIntegerField(_("default width"), default=512)
    default_height = models.PositiveSmallIntegerField(_("default height"), default=512)
    is_default = models.BooleanField(_("default style"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # A LoRA adapter (diffusers' format, .safetensors only) that changes what the model draws,
    # checked when uploaded (generation/style_adapters.py); its hash names it in the pipeline.
    base_model = models.CharField(
        _("base model"), max_length=300, blank=True, help_text=_("The model the adapter was made for.")
    )
    lora = models.FileField(_("LoRA adapter"), upload_to="styles/adapters/", blank=True)
    lora_sha256 = models.CharField(_("adapter SHA-256"), max_length=64, blank=True, editable=False)
    lora_weight = models.FloatField(_("adapter weight"), default=1.0, help_text=_("0 draws as if there were none."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def preview_url(self) -> str:
        """Where the studio's picker loads the preview from (served like any media file)."""
        from gallery.media import media_url  # gallery imports these models

        return media_url(self.preview.name) if self.preview else ""

    @property
    def adapter_key(self) -> str:
        """The adapter's name inside the pipeline: one per file content, so two styles sharing a
        file share the loaded adapter, and a replaced file is never mistaken for the old one."""
        return f"style_{self.lora_sha256[:12]}" if self.lora and self.lora_sha256 else ""

    def adapter_snapshot(self) -> dict[str, object]:
        """The adapter a job queued now draws with, as ``GenerationJob.adapter`` keeps it
        (key, name, file, sha256, weight); {} when the style has none."""
        if not self.adapter_key:
            return {}
        return {
            "key": self.adapter_key,
            "name": self.name,
            "file": self.lora.name,
            "sha256": self.lora_sha256,
            "weight": float(self.lora_weight),
        }

    def render_prompt(self, prompt: str) -> str:
        if "{prompt}" in self.prompt_template:
            return self.prompt_template.replace("{prompt}", prompt)
        return f"{prompt}, {self.prompt_template}" if self.prompt_template else prompt


class GenerationJob(models.Model):
    id = models.CharField(primary_key=True, max_length=PUBLIC_ID_LENGTH, default=new_public_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generation_jobs")
    style = models.ForeignKey(Style, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs")
    prompt = models.CharField(_("prompt"), max_length=500)
    full_prompt = models.TextField(_("prompt sent to the model"))
    negative_prompt = models.TextField(_("negative prompt"), blank=True)
    seed = models.BigIntegerField(_("seed"))
    steps = models.PositiveSmallIntegerField(_("steps"))
    guidance_scale = models.FloatField(_("guidance scale"), default=0.0)
    width = models.PositiveSmallIntegerField(_("width"))
    height = models.PositiveSmallIntegerField(_("height"))
    count = models.PositiveSmallIntegerField(_("candidates"))
    # Edits (image to image, inpainting): the picture changed, how much, and where. The job
    # keeps its own copy of the source (and the mask), so deleting the source picture while the
    # edit waits or later never breaks it; ``provenance`` keeps the chain before it as text.
    kind = models.CharField(
        _("kind"),
        max_length=12,
        choices=[(JobKind.DRAW, _("drawing")), (JobKind.EDIT, _("edit")), (JobKind.INPAINT, _("edit of a region"))],
        default=JobKind.DRAW,
    )
    source_image = models.ForeignKey(
        "Background", on_delete=models.SET_NULL, null=True, blank=True, related_name="edits", verbose_name=_("source")
    )
    source_file = models.ImageField(_("source picture"), upload_to="edit-sources/", blank=True)
    mask = models.ImageField(_("mask"), upload_to="edit-masks/", blank=True)
    strength = models.FloatField(_("strength"), null=True, blank=True)
    provenance = models.JSONField(_("provenance"), default=list, blank=True)
    # The style's LoRA adapter as this job used it (name, file hash, weight), copied when queued.
    adapter = models.JSONField(_("adapter"), default=dict, blank=True)
    # What else besides size, steps and guidance a batch-mate must share (manager.types.batch_variant).
    batch_variant = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(_("status"), max_length=16, choices=JobStatus.choices(), default=JobStatus.QUEUED)
    progress = models.FloatField(_("progress"), default=0.0)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Scale-out bookkeeping: which worker holds a running job, and until when. A worker renews
    # its lease while it draws; a job whose lease ran out belonged to a dead worker.
    worker = models.CharField(_("worker"), max_length=120, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    model_name = models.CharField(_("model"), max_length=300, blank=True)
    # The API token a program queued the job with (None from the studio): its webhook hears
    # when the job finishes. A deleted token leaves its jobs in place.
    api_token = models.ForeignKey(
        "accounts.ApiToken", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs", editable=False
    )
    # Fair queuing (generation/manager/fairness.py): the job's virtual start tag, its place in
    # the fair order, and its finish tag (start + work), where its owner's next job may start.
    # Given once when queued and kept across re-queues, so the order survives restarts.
    fair_tag = models.FloatField(_("fair queue tag"), default=0.0)
    fair_finish = models.FloatField(_("fair queue finish tag"), default=0.0, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["status", "lease_expires_at"]),
            models.Index(fields=["status", "fair_tag", "created_at"]),
            models.Index(fields=["owner", "fair_finish"]),
        ]

    def __str__(self) -> str:
        return f"{self.prompt[:40]} ({self.status})"


class Background(models.Model):
    """One candidate image drawn by a job; kept ones make up the user's gallery."""

    id = models.CharField(primary_key=True, max_length=PUBLIC_ID_LENGTH, default=new_public_id, editable=False)
    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField()
    seed = models.BigIntegerField()
    # Plain width/height, not ImageField dimension fields: those re-open the file on every load.
    image = models.ImageField(upload_to="backgrounds/")
    width = models.PositiveSmallIntegerField(default=0)
    height = models.PositiveSmallIntegerField(default=0)
    kept_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="background_unique_index_per_job")]

    def __str__(self) -> str:
        return f"{self.job.prompt[:40]} #{self.index + 1}"


class GenerationWorker(models.Model):
    """One running model manager (in a web process or a ``generation_worker``), as last seen.

    Web processes read these rows to tell users an ETA and to show in ``/healthz`` who is
    drawing, without talking to the workers directly.
    """

    id = models.CharField(primary_key=True, max_length=120)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    model_name = models.CharField(max_length=300, blank=True)
    device = models.CharField(max_length=40, blank=True)
    state = models.CharField(max_length=20, default="loading")
    images_per_second = models.FloatField(default=0.0)
    # Megapixel-steps per second: unlike images/s it holds across sizes and step counts,
    # so an ETA behind a big slow job is honest.
    work_per_second = models.FloatField(default=0.0)
    restarts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-last_seen_at", "id"]

    def __str__(self) -> str:
        return self.id


class BlockedPhrase(models.Model):
    """A word or phrase prompts may not contain; matched ignoring case, spacing and punctuation,
    so "S p a m", "spam!" and "SPAM" are the same."""

    phrase = models.CharField(_("word or phrase"), max_length=200, unique=True)
    note = models.CharField(_("why (for moderators)"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["phrase"]

    def __str__(self) -> str:
        return self.phrase


class WebhookDelivery(models.Model):
    """One ``job.finished`` webhook to send, and how sending it went. The row is the retry
    state (nothing waits in memory), so a restart loses no delivery: any process's delivery
    loop claims due rows atomically and sends each one."""

    id = models.CharField(primary_key=True, max_length=PUBLIC_ID_LENGTH, default=new_public_id, editable=False)
    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="webhook_deliveries")
    token = models.ForeignKey(
        "accounts.ApiToken", on_delete=models.SET_NULL, null=True, blank=True, related_name="webhook_deliveries"
    )
    # Copied when queued: a URL changed later applies to later jobs only.
    url = models.URLField(_("URL"), max_length=500)
    payload = models.JSONField(_("payload"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When the next attempt is due; while an attempt is under way, when its claim runs out.
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_response = models.CharField(_("last response (start)"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    gave_up_at = models.DateTimeField(_("gave up"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(delivered_at__isnull=True, gave_up_at__isnull=True),
                name="webhook_delivery_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.job_id} → {self.url}"


class StyleTraining(models.Model):
    """One "train a style" run: its pictures, settings and progress. The row is the queue (a
    worker claims it like a job, with a lease) and the state a restart resumes from; the
    checkpoints themselves are files in ``checkpoint_path`` on the worker that trains it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("training")
        SUCCEEDED = "succeeded", _("done")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    id = models.CharField(primary_key=True, max_length=PUBLIC_ID_LENGTH, default=new_public_id, editable=False)
    name = models.CharField(_("style name"), max_length=80)
    trigger_word = models.CharField(_("trigger word"), max_length=40, blank=True)
    description = models.TextField(_("description"), blank=True)
    base_model = models.CharField(_("base model"), max_length=300, blank=True)
    steps = models.PositiveIntegerField(_("steps"), default=500)
    rank = models.PositiveSmallIntegerField(_("rank"), default=4)
    learning_rate = models.FloatField(_("learning rate"), default=1e-4)
    resolution = models.PositiveSmallIntegerField(_("resolution"), default=512)
    seed = models.BigIntegerField(_("seed"), default=0)
    # "attention": the recipe's attention projections; "all": also the convolutions around them.
    layers = models.CharField(
        _("layers trained"),
        max_length=12,
        choices=[("attention", _("attention projections")), ("all", _("all layers"))],
        default="attention",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    step = models.PositiveIntegerField(_("step"), default=0)
    losses = models.JSONField(_("loss per step"), default=list, blank=True)
    checkpoint_path = models.CharField(_("checkpoint folder"), max_length=500, blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    worker = models.CharField(_("worker"), max_length=120, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    result = models.ForeignKey(
        Style, on_delete=models.SET_NULL, null=True, blank=True, related_name="trainings", verbose_name=_("style made")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="style_trainings"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("style training")
        verbose_name_plural = _("style trainings")

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def progress(self) -> float:
        return min(1.0, self.step / self.steps) if self.steps else 0.0


class StyleTrainingImage(models.Model):
    training = models.ForeignKey(StyleTraining, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="styles/training/")
    caption = models.CharField(_("caption"), max_length=300, blank=True)

    class Meta:
        ordering = ["training", "id"]

    def __str__(self) -> str:
        return self.caption or self.image.name
