from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GenerationConfig(AppConfig):
    """Nothing starts here on purpose: the model manager starts with the ASGI server or the
    worker command, never in ``migrate``, ``check`` or test collection."""

    name = "generation"
    verbose_name = _("Generation")
