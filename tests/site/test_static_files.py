import pytest


@pytest.mark.parametrize("path", ["/static/admin/css/base.css", "/static/admin/js/core.js"])
def test_the_admins_static_files_are_served_by_the_app_itself(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


def test_an_unknown_static_file_is_404(client):
    assert client.get("/static/admin/css/no-such.css").status_code == 404
