"""My pictures (/gallery/): the signed-in user's kept backgrounds and every creation of theirs,
by tab, visibility and search, with who-can-see-it badges and "Delete selected" behind a
confirm step that touches nobody else's pictures."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.storage import default_storage
from django.http import QueryDict
from django.test import Client

from gallery import limits, services
from gallery.models import Creation
from gallery.views import MyPicturesQuery
from generation.models import Background
from tests.clients import page_client_for
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


def made(owner: Any, background: Background, *, title: str = "", visibility: str = "private") -> Creation:
    return services.creation_create(owner=owner, background=background, layers=[], title=title, visibility=visibility)


def ids(page: str, kind: str) -> list[str]:
    return re.findall(rf'data-{kind}-id="([^"]+)"', page)


def body(response: Any) -> str:
    return str(response.content.decode())


def next_link(page: str) -> str:
    found = re.search(r'class="[^"]*\bnext-page\b[^"]*" rel="next" href="([^"]+)"', page)
    assert found, "no next page link"
    return html.unescape(found.group(1))


@pytest.fixture
def pictures(alice: Any, bob: Any) -> dict[str, Any]:
    """Alice: two kept backgrounds (snow, beach), one candidate not kept, and a creation of each
    visibility (one hidden by moderators); bob: a kept background and a creation of his own."""
    snow = drawn_background(alice, prompt="Snowy street at dawn")
    beach = drawn_background(alice, prompt="A sunny beach")
    drawn_background(alice, prompt="never kept", kept=False)
    hidden = made(alice, beach, title="Taken down", visibility="public")
    hidden.moderation = "hidden"
    hidden.save()
    bobs_background = drawn_background(bob, prompt="Bob's snowy hill")
    return {
        "snow": snow,
        "beach": beach,
        "private": made(alice, snow, title="Friends in the snow"),
        "unlisted": made(alice, beach, title="Picnic", visibility="unlisted"),
        "public": made(alice, beach, visibility="public"),  # untitled: found by its prompt
        "hidden": hidden,
        "bobs_background": bobs_background,
        "bobs": made(bob, bobs_background, title="Bob's snow day"),
    }


@pytest.fixture
def alice_client(alice: Any) -> Client:
    return page_client_for(alice)


# ---- listing -------------------------------------------------------------------------------


def test_the_backgrounds_tab_lists_my_kept_backgrounds_and_nobody_elses(
    alice_client: Client, pictures: dict[str, Any]
) -> None:
    response = alice_client.get("/gallery/")

    page = body(response)
    assert response.status_code == 200
    assert ids(page, "background") == [pictures["beach"].id, pictures["snow"].id]
    assert "never kept" not in page and "Bob&#x27;s snowy hill" not in page
    assert ids(page, "creation") == []
    assert 'id="tab-backgrounds" href="/gallery/" aria-current="page"' in page
    assert "<h1>My pictures</h1>" in page


def test_the_creations_tab_lists_every_creation_of_mine_whatever_its_visibility(
    alice_client: Client, pictures: dict[str, Any]
) -> None:
    page = body(alice_client.get("/gallery/?show=creations"))

    mine = {pictures[name].id for name in ("private", "unlisted", "public", "hidden")}
    assert set(ids(page, "creation")) == mine
    assert pictures["bobs"].id not in page
    assert ids(page, "background") == []
    assert 'id="tab-creations" href="/gallery/?show=creations" aria-current="page"' in page


def test_each_creation_card_says_who_can_see_it_in_words(alice_client: Client, pictures: dict[str, Any]) -> None:
    page = body(alice_client.get("/gallery/?show=creations"))

    def card(name: str) -> str:
        start = page.index(f'data-creation-id="{pictures[name].id}"')
        return page[start : page.index("</figure>", start)]

    assert '<span class="badge badge-private">Private</span>' in card("private")
    assert '<span class="badge badge-unlisted">Anyone with the link</span>' in card("unlisted")
    assert '<span class="badge badge-public">Public</span>' in card("public")
    assert "Hidden by a moderator" in card("hidden") and "Public" in card("hidden")
    assert "Hidden by a moderator" not in card("public")


@pytest.mark.parametrize(("visibility", "expected"), [("private", ["private"]), ("unlisted", ["unlisted"]),
                                                      ("public", ["public", "hidden"])])  # fmt: skip
def test_the_visibility_filter_shows_only_creations_of_that_visibility(
    alice_client: Client, pictures: dict[str, Any], visibility: str, expected: list[str]
) -> None:
    page = body(alice_client.get(f"/gallery/?show=creations&visibility={visibility}"))

    assert set(ids(page, "creation")) == {pictures[name].id for name in expected}
    assert re.search(rf'href="/gallery/\?show=creations&amp;visibility={visibility}" aria-current="true"', page)


@pytest.mark.parametrize("query", ["show=nonsense", "show=creations&visibility=everyone", "visibility=private"])
def test_an_unknown_tab_or_visibility_shows_the_default_not_an_error(
    alice_client: Client, pictures: dict[str, Any], query: str
) -> None:
    response = alice_client.get(f"/gallery/?{query}")

    assert response.status_code == 200
    shown = ids(body(response), "creation") or ids(body(response), "background")
    assert len(shown) == (4 if "creations" in query else 2)


# ---- search --------------------------------------------------------------------------------


def test_search_finds_kept_backgrounds_by_their_prompt_in_any_case(
    alice_client: Client, pictures: dict[str, Any]
) -> None:
    page = body(alice_client.get("/gallery/?q=SNOWY"))

    assert ids(page, "background") == [pictures["snow"].id]  # not bob's snowy hill
    assert 'value="SNOWY"' in page


def test_search_finds_creations_by_title_or_by_the_prompt_they_were_drawn_from(
    alice_client: Client, pictures: dict[str, Any]
) -> None:
    by_title = body(alice_client.get("/gallery/?show=creations&q=picnic"))
    by_prompt = body(alice_client.get("/gallery/?show=creations&q=sunny%20BEACH"))
    narrowed = body(alice_client.get("/gallery/?show=creations&visibility=public&q=beach"))

    assert ids(by_title, "creation") == [pictures["unlisted"].id]
    assert set(ids(by_prompt, "creation")) == {pictures[name].id for name in ("unlisted", "public", "hidden")}
    assert set(ids(narrowed, "creation")) == {pictures["public"].id, pictures["hidden"].id}


def test_a_search_without_results_says_so_and_offers_to_clear_it(
    alice_client: Client, pictures: dict[str, Any]
) -> None:
    response = alice_client.get("/gallery/?show=creations&visibility=private&q=volcano")

    page = body(response)
    assert response.status_code == 200
    assert "No results for “volcano”" in page
    assert 'id="clear-search" href="/gallery/?show=creations&amp;visibility=private"' in page
    assert 'id="creations-empty"' not in page


def test_the_empty_tabs_stay_friendly(alice_client: Client) -> None:
    backgrounds = body(alice_client.get("/gallery/"))
    creations = body(alice_client.get("/gallery/?show=creations"))
    filtered = body(alice_client.get("/gallery/?show=creations&visibility=public"))

    assert 'id="gallery-empty"' in backgrounds and 'href="/studio/"' in backgrounds
    assert 'id="creations-empty"' in creations and 'href="/explore/"' in creations
    assert 'id="no-match"' in filtered and 'href="/gallery/?show=creations"' in filtered
    assert "Delete selected" not in backgrounds + creations


@pytest.mark.parametrize("words", ["%00", "\ud800", "x" * 5000, "\u202e", "  snowy \t street  "])
def test_a_search_with_odd_characters_or_thousands_of_letters_is_cleaned_not_an_error(
    alice_client: Client, pictures: dict[str, Any], words: str
) -> None:
    response = alice_client.get("/gallery/", {"q": words.encode("utf-8", "surrogatepass")})

    assert response.status_code == 200
    searched = response.context["query"].search
    assert len(searched) <= 100 and "\u202e" not in searched and "  " not in searched
    if words.strip().startswith("snow"):
        assert ids(body(response), "background") == [pictures["snow"].id]


def test_the_search_loses_control_characters_even_past_the_nul_guard() -> None:
    """The middleware already answers NUL in a query with 400; the parser does not rely on it."""
    query = MyPicturesQuery.parse(QueryDict(urlencode({"q": "sno\x00w\x07 \u200b day"})))

    assert query.search == "snow day"


# ---- paging --------------------------------------------------------------------------------


def test_paging_keeps_the_tab_the_visibility_and_the_search(alice: Any, alice_client: Client) -> None:
    background = drawn_background(alice, prompt="a snowy field")
    wanted = [made(alice, background, title=f"Snow {n}") for n in range(14)]
    made(alice, background, title="Snow but public", visibility="public")
    made(alice, drawn_background(alice, prompt="a rainy road"), title="Rain")

    first = body(alice_client.get("/gallery/?show=creations&visibility=private&q=snow"))
    following = next_link(first)
    second = body(alice_client.get(following))

    assert "show=creations" in following and "visibility=private" in following and "q=snow" in following
    assert sorted(ids(first, "creation") + ids(second, "creation")) == sorted(creation.id for creation in wanted)
    assert 'class="button button-small button-secondary previous-page"' in second
    assert 'name="q" value="snow"' in second  # the search box and the delete form keep it too


# ---- the header ----------------------------------------------------------------------------


def test_the_header_links_my_name_to_my_pictures_and_names_the_menu_item_so(alice_client: Client) -> None:
    page = body(alice_client.get("/studio/"))

    assert re.search(r'<a class="username" id="header-username" href="/gallery/"[^>]*>alice</a>', page)
    assert ">My pictures</a>" in page and ">Gallery</a>" not in page


# ---- deleting ------------------------------------------------------------------------------


def delete(client: Client, *, confirm: bool, **chosen: Any) -> Any:
    data = {**chosen, **({"confirm": "yes"} if confirm else {})}
    return client.post("/gallery/delete/", data)


def test_delete_selected_first_lists_what_will_go_and_changes_nothing(
    alice_client: Client, pictures: dict[str, Any]
) -> None:
    response = delete(alice_client, confirm=False, creation=[pictures["private"].id], background=[pictures["snow"].id])

    page = body(response)
    assert response.status_code == 200
    assert "Delete these 2 pictures?" in page
    assert ids(page, "creation") == [pictures["private"].id] and ids(page, "background") == [pictures["snow"].id]
    assert "Friends in the snow" in page and "Snowy street at dawn" in page
    assert "1 of your creations is drawn on it and stays." in page  # the snow background's one creation
    assert 'name="confirm" value="yes"' in page and 'id="cancel-delete" href="/gallery/"' in page
    assert Creation.objects.filter(id=pictures["private"].id).exists()
    assert Background.objects.get(id=pictures["snow"].id).kept_at is not None


def test_confirming_deletes_my_creations_and_takes_backgrounds_out_of_my_pictures(
    alice: Any, alice_client: Client, pictures: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    gone = [pictures["private"], pictures["hidden"]]
    files = [name for creation in gone for name in (creation.image.name, creation.thumbnail.name)]
    stored_before = limits.stored_pictures(user_id=alice.pk)

    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        response = delete(
            alice_client,
            confirm=True,
            creation=[creation.id for creation in gone],
            background=[pictures["snow"].id],
            show="creations",
            q="snow",
        )
        assert all(default_storage.exists(name) for name in files)  # nothing removed before the commit
    for callback in after_commit:
        callback()

    assert response.status_code == 302 and response["Location"] == "/gallery/?show=creations&q=snow"
    assert not Creation.objects.filter(id__in=[creation.id for creation in gone]).exists()
    assert not any(default_storage.exists(name) for name in files)
    snow = Background.objects.get(id=pictures["snow"].id)  # un-kept: still the job's candidate
    assert snow.kept_at is None and default_storage.exists(snow.image.name)
    assert Creation.objects.filter(id=pictures["unlisted"].id).exists()
    assert limits.stored_pictures(user_id=alice.pk) == stored_before - 3
    shown = body(alice_client.get(response["Location"]))
    assert "3 pictures deleted." in shown
    assert pictures["snow"].id not in body(alice_client.get("/gallery/"))


def test_other_peoples_pictures_are_passed_over_and_left_untouched(
    alice_client: Client, bob: Any, pictures: dict[str, Any]
) -> None:
    bobs = {"creation": [pictures["bobs"].id], "background": [pictures["bobs_background"].id]}

    asked = delete(alice_client, confirm=False, **bobs)
    done = delete(alice_client, confirm=True, creation=[pictures["bobs"].id, pictures["public"].id])

    assert asked.status_code == 404 and "cannot be found" in body(asked)
    assert pictures["bobs"].id not in body(asked)
    assert done.status_code == 302
    assert Creation.objects.filter(id=pictures["bobs"].id).exists()
    assert Background.objects.get(id=pictures["bobs_background"].id).kept_at is not None
    assert not Creation.objects.filter(id=pictures["public"].id).exists()
    assert limits.stored_pictures(user_id=bob.pk) == 2


def test_deleting_what_is_already_gone_says_so(alice_client: Client, pictures: dict[str, Any]) -> None:
    chosen = {"creation": [pictures["private"].id]}
    delete(alice_client, confirm=True, **chosen)

    again = delete(alice_client, confirm=True, **chosen)

    assert again.status_code == 302
    assert "Nothing was deleted" in body(alice_client.get(again["Location"]))


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        ({}, "Choose at least one picture to delete."),
        ({"creation": [""]}, "not valid"),
        ({"creation": ["a\x00b"]}, "not valid"),
        ({"background": ["../../etc/passwd"]}, "not valid"),
        ({"creation": ["x" * 5000]}, "not valid"),
        ({"creation": [f"id{n}" for n in range(101)]}, "at most 100 pictures"),
    ],
    ids=["nothing", "empty", "nul", "path", "long", "too-many"],
)
@pytest.mark.parametrize("confirm", [False, True], ids=["ask", "confirm"])
def test_garbage_or_too_many_ids_are_a_400_in_words_and_delete_nothing(
    alice_client: Client, pictures: dict[str, Any], chosen: dict[str, list[str]], message: str, confirm: bool
) -> None:
    before = Creation.objects.count()

    response = delete(alice_client, confirm=confirm, **chosen)

    assert response.status_code == 400
    assert message in body(response) and 'id="delete-error"' in body(response)
    assert Creation.objects.count() == before


def test_deleting_needs_a_post_with_the_csrf_token_and_a_signed_in_user(alice: Any, pictures: dict[str, Any]) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    chosen = {"creation": [pictures["private"].id], "confirm": "yes"}

    assert strict.post("/gallery/delete/", chosen).status_code == 403
    assert page_client_for(alice).get("/gallery/delete/").status_code == 405
    assert page_client_for(None).post("/gallery/delete/", chosen).status_code == 302  # to the login page
    assert Creation.objects.filter(id=pictures["private"].id).exists()


def test_the_delete_form_sends_the_ticked_ids_with_the_csrf_token(
    alice_client: Client, pictures: dict[str, Any]
) -> None:
    page = body(alice_client.get("/gallery/?show=creations&visibility=private"))

    form = page[page.index('<form class="pick-form"') : page.index("</form>", page.index('<form class="pick-form"'))]
    assert 'method="post" action="/gallery/delete/"' in form and 'name="csrfmiddlewaretoken"' in form
    assert f'type="checkbox" name="creation" value="{pictures["private"].id}"' in form
    assert 'name="visibility" value="private"' in form and 'name="show" value="creations"' in form


def test_my_pictures_speaks_korean_when_asked(alice_client: Client, pictures: dict[str, Any]) -> None:
    page = body(alice_client.get("/gallery/?show=creations", headers={"accept-language": "ko"}))

    assert '<html lang="ko"' in page
    assert '<span class="badge badge-private">비공개</span>' in page  # "Private", already in the catalogue
