"""Static files with a cache lifetime: the stylesheet and icons change only with a release."""

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


class CachedStatic(StaticFiles):
    max_age = 86_400

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = f"public, max-age={self.max_age}"
        return response
