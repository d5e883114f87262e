"""/u/{token}: a confirmation page on GET, RFC 8058 one-click on POST."""

from __future__ import annotations

import httpx

from tests.support import Mail


def _token(mail: Mail, to: str) -> str:
    send_id = mail.queue(to=to, template_slug="intro", variables={"contact": {"first_name": "A"}})
    return mail.send_row(send_id)["unsubscribe_token"]


def test_get_shows_a_page_and_changes_nothing(base_url: str, mail: Mail, admin) -> None:
    token = _token(mail, "reader@example.com")
    page = httpx.get(f"{base_url}/u/{token}", timeout=5)
    assert page.status_code == 200
    assert "Unsubscribe?" in page.text
    assert "reader@example.com" in page.text
    count = admin.execute(
        "select count(*) from app.suppressions where email = 'reader@example.com'"
    ).fetchone()
    assert count == (0,)


def test_one_click_post_suppresses_marketing_mail(base_url: str, mail: Mail) -> None:
    token = _token(mail, "leaver@example.com")
    response = httpx.post(
        f"{base_url}/u/{token}",
        content="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    assert response.status_code == 200
    assert "You are unsubscribed" in response.text
    later = mail.queue(
        to="leaver@example.com", template_slug="intro", variables={"contact": {"first_name": "A"}}
    )
    assert mail.send_row(later)["suppression_reason"] == "unsubscribe"
    again = httpx.post(f"{base_url}/u/{token}", timeout=5)
    assert "Already unsubscribed" in again.text


def test_an_unknown_token_is_a_404(base_url: str) -> None:
    assert httpx.get(f"{base_url}/u/not-a-token", timeout=5).status_code == 404


def test_the_page_escapes_what_it_shows(base_url: str, mail: Mail, admin) -> None:
    token = _token(mail, "x@example.com")
    admin.execute(
        "update app.organizations set name = '<script>alert(1)</script>' where id = %s",
        (mail.org_id,),
    )
    page = httpx.get(f"{base_url}/u/{token}", timeout=5)
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_a_token_with_a_nul_byte_is_a_404(base_url: str) -> None:
    assert httpx.get(f"{base_url}/u/abc%00def", timeout=5).status_code == 404
