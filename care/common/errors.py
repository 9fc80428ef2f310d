"""The JSON body of every error the API answers (docs/api.md): the API's exception handler
(care.api.errors) and the middleware that answers API calls before a view does
(care.accounts.security) write it."""


def error_body(*, status_code: int, code: str, detail: str, errors: dict | None = None) -> dict:
    return {"status": status_code, "code": code, "detail": detail, "errors": errors or {}}
