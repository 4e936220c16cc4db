"""Routes of the outlet front end: the pages, the counter's JSON routes, the static files.

Everything lives under ``/ui`` (``/`` leads there), next to the REST API and on the same
port, so `make run` serves the front end with nothing to build.
"""

from fastapi import APIRouter

from gateway.web import assets, counter_api, pages

router = APIRouter(include_in_schema=False)
router.include_router(counter_api.router)
router.include_router(assets.router)
router.include_router(pages.router)
router.include_router(assets.not_found)  # last: any other /ui path is a page that is not there
