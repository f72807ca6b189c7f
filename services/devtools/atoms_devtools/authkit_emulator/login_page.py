"""The hosted login page and the emulator's other pages: plain server-rendered HTML, no JavaScript.

Every value is HTML-escaped. Pages are sent with `Cache-Control: no-store` and a Content
Security Policy that allows no script at all; they may not be framed.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from starlette.responses import HTMLResponse

from atoms_devtools.authkit_emulator.dev_users import DevUser, Organization

SIGN_IN_PATH = "/sign-in"
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; }
.note { color: #555; } .problem { color: #a00; font-weight: bold; }
table { border-collapse: collapse; margin-top: 1rem; } td, th { padding: .3rem .6rem; text-align: left; }
tr + tr td { border-top: 1px solid #ddd; } form.inline { margin: 0; }
"""


def login_page(
    *,
    login_id: str,
    client_name: str,
    users: Sequence[DevUser],
    organizations: Sequence[Organization],
    email: str = "",
    problem: str | None = None,
    choose_from: DevUser | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The login page: an email field, and every dev user with a button to continue as them.

    Args:
        login_id: the pending login the form submits back.
        client_name: who asked for the sign-in (shown to the person).
        users: the dev users to list.
        organizations: to name each user's organizations.
        email: prefilled email (login hint, or what was typed).
        problem: a message to show above the form.
        choose_from: a user who belongs to several organizations and must pick one.
        status_code: 200, or 400 when re-shown because of a problem.
    """
    names = {org.id: org.name for org in organizations}
    hidden = _hidden("login_request", login_id)
    body = [
        "<h1>Sign in to Atoms</h1>",
        f'<p class="note">Local AuthKit (development only) &middot; for {escape(client_name)}</p>',
    ]
    if problem:
        body.append(f'<p class="problem" role="alert">{escape(problem)}</p>')
    body += [
        f'<form method="post" action="{SIGN_IN_PATH}">{hidden}',
        '<label for="email">Email</label> ',
        f'<input id="email" name="email" type="email" value="{escape(email)}" required autofocus> ',
        _organization_choice(choose_from, names) if choose_from else "",
        '<button type="submit" name="action" value="sign-in">Continue</button> ',
        '<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>',
        "</form>",
        "<h2>Dev users</h2><table><tr><th>Email</th><th>Name</th><th>Organizations</th><th></th></tr>",
        *(_user_row(user, names, hidden) for user in users),
        "</table>",
    ]
    return _page("Sign in", body, status_code)


def message_page(title: str, message: str, *, status_code: int) -> HTMLResponse:
    """A page that only says something: an error that must not be redirected, or "signed out"."""
    return _page(title, [f"<h1>{escape(title)}</h1>", f"<p>{escape(message)}</p>"], status_code)


def _user_row(user: DevUser, names: dict[str, str], hidden: str) -> str:
    organizations = ", ".join(
        f"{names.get(m.organization_id, m.organization_id)} ({m.role})" for m in user.memberships
    )
    full_name = f"{user.first_name} {user.last_name}".strip()
    button = (
        f'<form class="inline" method="post" action="{SIGN_IN_PATH}">{hidden}'
        f"{_hidden('email', user.email)}"
        '<button type="submit" name="action" value="sign-in">'
        f"Continue as {escape(user.email)}</button></form>"
    )
    return (
        f"<tr><td>{escape(user.email)}</td><td>{escape(full_name)}</td>"
        f"<td>{escape(organizations) or '&ndash;'}</td><td>{button}</td></tr>"
    )


def _organization_choice(user: DevUser, names: dict[str, str]) -> str:
    options = "".join(
        f'<label><input type="radio" name="organization_id" value="{escape(m.organization_id)}" required> '
        f"{escape(names.get(m.organization_id, m.organization_id))} ({escape(m.role)})</label><br>"
        for m in user.memberships
    )
    return f"<fieldset><legend>Organization</legend>{options}</fieldset>"


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


def _page(title: str, body: list[str], status_code: int) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} &middot; Local AuthKit</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)
