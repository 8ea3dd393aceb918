"""Pages hand their scripts data as ``json_script`` blocks built in Python, and their limits are
the server's.

The blocks were JSON typed by hand under ``{% autoescape off %}``: a translation with a quote or
``</script>`` could end the script early. The numbers in the forms were typed in the templates
and drifted from what the API accepted.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from rest_framework import serializers

from gallery import compositing
from gallery import services as gallery_services
from gallery.api import CreationCreateApi, CreationDetailApi, CreationReportApi
from gallery.models import Creation, Report
from generation.api import JobInputSerializer
from tests.clients import page_client_for
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db

EVIL = 'He said "hi" \\ </script><script>alert(1)</script> <!-- & \u2028'


class _Page(HTMLParser):
    """The page's JSON blocks (id → parsed value) and every form control's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.json: dict[str, Any] = {}
        self.controls: dict[str, dict[str, str]] = {}
        self.options: dict[str, list[dict[str, str]]] = {}
        self._script: str | None = None
        self._select: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script" and values.get("type") == "application/json":
            assert values["id"] not in self.json, f"two blocks named {values['id']}"
            self._script, self._text = values["id"], []
        elif tag in ("input", "textarea", "select") and "id" in values:
            self.controls[values["id"]] = values
            if tag == "select":
                self._select = values["id"]
                self.options[values["id"]] = []
        elif tag == "option" and self._select:
            self.options[self._select].append(values)

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.json[self._script] = json.loads("".join(self._text))
            self._script = None
        elif tag == "select":
            self._select = None


def parse(client: Client, url: str, **headers: str) -> _Page:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.status_code
    page = _Page()
    page.feed(response.content.decode())
    page.close()
    return page


@pytest.fixture
def creation(alice: Any) -> Creation:
    return gallery_services.creation_create(
        owner=alice, background=drawn_background(alice), layers=[], title="Meadow", visibility="public"
    )


def page_blocks(creation: Creation) -> dict[str, list[str]]:
    """Every page that hands its script data, with the blocks it must carry."""
    return {
        "/studio/": ["studio-strings"],
        f"/c/{creation.id}/": ["creation-strings"],
        f"/c/{creation.id}/edit/": ["composer-strings", "composer-limits", "composer-layers"],
        f"/compose/{creation.background_id}/": ["composer-strings", "composer-limits"],
    }


def strings_blocks(creation: Creation, module: str) -> list[tuple[str, str]]:
    """(url, block) of the string tables one ``ui_strings`` module builds."""
    app_of = {"studio-strings": "generation", "creation-strings": "gallery", "composer-strings": "gallery"}
    return [
        (url, block)
        for url, blocks in page_blocks(creation).items()
        for block in blocks
        if app_of.get(block) == module.split(".")[0]
    ]


def test_no_template_turns_autoescaping_off() -> None:
    templates = Path(settings.BASE_DIR) / "templates"
    offenders = [str(path) for path in templates.rglob("*.html") if "autoescape off" in path.read_text()]
    assert offenders == []


def test_every_page_writes_its_script_data_as_valid_json(alice: Any, creation: Creation) -> None:
    client = page_client_for(alice)
    for url, blocks in page_blocks(creation).items():
        page = parse(client, url)
        assert sorted(page.json) == sorted(blocks), url
        for block in blocks:
            if block.endswith("-strings"):
                assert page.json[block] and all(isinstance(text, str) and text for text in page.json[block].values())


def test_the_shared_page_of_an_unlisted_picture_writes_its_strings_too(alice: Any, creation: Creation) -> None:
    creation.visibility = "unlisted"
    creation.save()

    page = parse(page_client_for(None), f"/s/{creation.share_token}/")

    assert page.json["creation-strings"]["saved"] == "Saved."


@pytest.mark.parametrize("module", ["generation.ui_strings", "gallery.ui_strings"])
def test_a_translation_with_quotes_or_a_closing_script_tag_cannot_break_out(
    monkeypatch: pytest.MonkeyPatch, alice: Any, creation: Creation, module: str
) -> None:
    monkeypatch.setattr(f"{module}.gettext", lambda message: EVIL)
    monkeypatch.setattr(f"{module}.pgettext", lambda context, message: EVIL, raising=False)
    client = page_client_for(alice)

    for url, block in strings_blocks(creation, module):
        html = client.get(url).content.decode()
        assert "<script>alert(1)" not in html and "</script> <!--" not in html
        strings = parse(client, url).json[block]
        assert strings and all(value == EVIL for value in strings.values()), block


def test_the_studio_strings_keep_their_korean_translations(alice: Any) -> None:
    """The msgids and contexts moved from the template to Python unchanged, so every string
    still finds its Korean translation (one that lost it would come back in English)."""
    client = page_client_for(alice)
    english = parse(client, "/studio/", **{"accept-language": "en"}).json["studio-strings"]
    korean = parse(client, "/studio/", **{"accept-language": "ko"}).json["studio-strings"]

    assert english.keys() == korean.keys()
    untranslated = [key for key in english if english[key] == korean[key]]
    assert untranslated == []
    assert re.search(r"[가-힣]", korean["placeOne"]) and "{n}" in korean["placeOne"]


def test_the_gallery_strings_keep_their_korean_translations(alice: Any, creation: Creation) -> None:
    client = page_client_for(alice)
    for url, block in strings_blocks(creation, "gallery"):
        english = parse(client, url, **{"accept-language": "en"}).json[block]
        korean = parse(client, url, **{"accept-language": "ko"}).json[block]
        assert [key for key in english if english[key] == korean[key]] == [], block


# -- limits -----------------------------------------------------------------------------------
def _studio_form(client: Client) -> _Page:
    return parse(client, "/studio/")


def refused(data: dict[str, Any]) -> set[str]:
    """The fields ``POST /api/v1/jobs/`` would refuse in ``data``."""
    serializer = JobInputSerializer(data=data)
    serializer.is_valid()
    return set(serializer.errors)


def test_the_studio_form_offers_exactly_what_the_api_accepts(alice: Any) -> None:
    page = _studio_form(page_client_for(alice))
    prompt_max = int(page.controls["prompt"]["maxlength"])
    steps = page.controls["steps"]
    seed = page.controls["seed"]
    counts = [int(option["value"]) for option in page.options["count"]]
    sizes = [int(option["value"]) for option in page.options["size"]]
    most = {
        "prompt": "x" * prompt_max,
        "count": max(counts),
        "width": max(sizes),
        "height": max(sizes),
        "steps": int(steps["max"]),
        "seed": int(seed["max"]),
    }
    least = {**most, "count": min(counts), "width": min(sizes), "height": min(sizes)}
    least.update(steps=int(steps["min"]), seed=int(seed["min"]))

    assert refused(most) == set()
    assert refused(least) == set()
    beyond = {"prompt": "x" * (prompt_max + 1), "count": max(counts) + 1, "steps": int(steps["max"]) + 1}
    beyond.update(seed=int(seed["max"]) + 1)
    for field, value in beyond.items():
        assert refused({**most, field: value}) == {field}
    for field, value in {"count": min(counts) - 1, "steps": int(steps["min"]) - 1, "seed": -1}.items():
        assert refused({**least, field: value}) == {field}
    assert counts == list(range(min(counts), max(counts) + 1))


def test_the_studio_form_follows_the_api_when_its_limits_change(monkeypatch: pytest.MonkeyPatch, alice: Any) -> None:
    """The page reads the serializer that enforces the limits: changing it changes the page."""
    declared = JobInputSerializer._declared_fields
    monkeypatch.setitem(declared, "prompt", serializers.CharField(max_length=42))
    monkeypatch.setitem(declared, "count", serializers.IntegerField(min_value=1, max_value=6))
    monkeypatch.setitem(declared, "steps", serializers.IntegerField(min_value=2, max_value=9))
    monkeypatch.setitem(declared, "width", serializers.IntegerField(min_value=300, max_value=700))

    client = page_client_for(alice)
    html = client.get("/studio/").content.decode()
    page = _studio_form(client)

    assert page.controls["prompt"]["maxlength"] == "42"
    assert '<span id="prompt-count">0</span> / 42' in html
    assert [option["value"] for option in page.options["count"]] == ["1", "2", "3", "4", "5", "6"]
    assert (page.controls["steps"]["min"], page.controls["steps"]["max"]) == ("2", "9")
    assert [option["value"] for option in page.options["size"]] == ["384", "512", "640"]


def test_the_report_form_takes_as_much_as_the_api_accepts(
    monkeypatch: pytest.MonkeyPatch, alice: Any, bob: Any, creation: Creation
) -> None:
    url = f"/c/{creation.id}/"
    field = CreationReportApi.InputSerializer().fields["reason"]
    assert parse(page_client_for(bob), url).controls["report-reason"]["maxlength"] == str(field.max_length)
    assert field.max_length == Report._meta.get_field("reason").max_length

    declared = CreationReportApi.InputSerializer._declared_fields
    monkeypatch.setitem(declared, "reason", serializers.CharField(max_length=77))
    assert parse(page_client_for(bob), url).controls["report-reason"]["maxlength"] == "77"


def test_the_title_field_takes_as_much_as_saving_accepts(alice: Any, creation: Creation) -> None:
    page = parse(page_client_for(alice), f"/c/{creation.id}/edit/")

    maxlength = int(page.controls["title"]["maxlength"])
    assert maxlength == CreationCreateApi.InputSerializer().fields["title"].max_length
    assert maxlength == CreationDetailApi.UpdateSerializer().fields["title"].max_length
    assert maxlength == Creation._meta.get_field("title").max_length


def test_the_editor_enforces_the_servers_layer_and_scale_limits(settings: Any, alice: Any, creation: Creation) -> None:
    client = page_client_for(alice)
    page = parse(client, f"/compose/{creation.background_id}/")
    assert page.json["composer-limits"] == {
        "maxLayers": settings.WEE_WAA_MAX_LAYERS,
        "minScale": compositing.MIN_SCALE,
        "maxScale": compositing.MAX_SCALE,
    }

    settings.WEE_WAA_MAX_LAYERS = 3
    for url in (f"/compose/{creation.background_id}/", f"/c/{creation.id}/edit/"):
        page = parse(client, url)
        assert page.json["composer-limits"]["maxLayers"] == 3
        assert page.json["composer-strings"]["tooManyLayers"] == "At most 3 characters fit in one picture."
