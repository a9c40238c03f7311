"""The place pages: finding a place with and without JavaScript, suggestions as you type,
and the page that explains the method."""

from __future__ import annotations

from tests.helpers import HtmlClient, error_messages, page


class TestFindPlace:
    def test_a_place_with_its_council_and_class(self, client: HtmlClient) -> None:
        response = client.get("/places?location=Portree")
        assert response.status_code == 200
        answer = page(response).select_one("#find-place").get_text(" ", strip=True)
        assert "Highland" in answer
        assert "Very remote rural area" in answer
        assert "Fort William" in answer

    def test_an_island_place_mentions_the_ferry(self, client: HtmlClient) -> None:
        answer = (
            page(client.get("/places?location=Rothesay"))
            .select_one("#find-place")
            .get_text(" ", strip=True)
        )
        assert "Remote small town" in answer
        assert "not counting the ferry from Bute" in answer

    def test_a_postcode_names_its_nearest_place(self, client: HtmlClient) -> None:
        answer = page(client.get("/places?location=iv51 9ey")).get_text(" ", strip=True)
        assert "IV51 9EY" in answer and "Portree" in answer

    def test_what_cannot_be_understood_gets_the_error_pattern(self, client: HtmlClient) -> None:
        response = client.get("/places?location=EH999")
        assert response.status_code == 422
        assert error_messages(response) == [
            "EH999 is not a postcode we know the form of. Enter a postcode like IV27 4JB, or "
            "its first part, like IV27"
        ]
        field = page(response).select_one("#location")
        assert field["aria-invalid"] == "true"
        assert field["value"] == "EH999"

    def test_htmx_gets_the_answer_only(self, client: HtmlClient) -> None:
        response = client.get("/places?location=Kirkwall", headers={"HX-Request": "true"})
        fragment = page(response)
        assert fragment.html is None
        assert "Orkney Islands" in fragment.select_one("#find-place").get_text()

    def test_suggestions_as_you_type(self, client: HtmlClient) -> None:
        response = client.get(
            "/places/suggest?field=location&location=stor", headers={"HX-Request": "true"}
        )
        options = [o["value"] for o in page(response).select("option")]
        assert options[0] == "Stornoway"
        empty = client.get("/places/suggest?field=base&base=x", headers={"HX-Request": "true"})
        assert empty.text.strip() == ""


def test_the_method_page_states_the_parameters(client: HtmlClient) -> None:
    text = page(client.get("/about/places")).get_text(" ", strip=True)
    assert "1.55" in text and "60 km per hour" in text
    assert "19.4 km" in text and "38.7 km" in text
    assert "673 towns, villages and islands" in text  # 674 entries, one a duplicate
    assert "Open Government Licence" in text and "GeoNames" in text


def test_without_htmx_suggestions_send_people_to_the_plain_look_up(client: HtmlClient) -> None:
    response = client.get("/places/suggest?field=location&location=stor")
    assert response.status_code == 303
    assert response.headers["location"] == "/places?location=stor"
