from tests.helpers import HtmlClient


def test_home_page(client: HtmlClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
