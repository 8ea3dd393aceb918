"""The one style Wee-Waa ships with. Words only: no cartoon images are copied anywhere."""

from django.db import migrations

SPRINGFIELD = {
    "name": "Springfield-style cartoon",
    "prompt_template": (
        "{prompt}, cartoon background in the style of a classic american animated sitcom, "
        "flat bright colors, clean bold outlines, simple shading, wide establishing shot, no people"
    ),
    "negative_prompt": "photo, photorealistic, 3d render, people, characters, text, watermark, blurry",
    "default_steps": 4,
    "guidance_scale": 0.0,
    "default_width": 512,
    "default_height": 512,
    "is_default": True,
}


def create_default_style(apps, schema_editor):
    Style = apps.get_model("generation", "Style")
    if not Style.objects.filter(name=SPRINGFIELD["name"]).exists():
        Style.objects.create(**SPRINGFIELD)


def remove_default_style(apps, schema_editor):
    apps.get_model("generation", "Style").objects.filter(name=SPRINGFIELD["name"]).delete()


class Migration(migrations.Migration):
    dependencies = [("generation", "0001_initial")]
    operations = [migrations.RunPython(create_default_style, remove_default_style)]
