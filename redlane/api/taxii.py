"""TAXII 2.1 over HTTP, read-only, under /taxii2/: discovery, the API root, the `mailbox`
collection, its objects, manifest, one object and its versions (`redlane.exchange.taxii`
decides what a page holds). Every answer, errors too, is `application/taxii+json;version=2.1`;
a request whose Accept header admits neither that nor `*/*` answers 406.

Credentials as on the rest of the API (a bearer token), or HTTP Basic, the scheme TAXII
clients implement, with the API token as the password. The purpose comes from the
`X-Redlane-Purpose` header when the client can send one, else it is `DEFAULT_PURPOSE`.
Refusals answer as the routes about no one message do: 403 to a role that may not read and
export messages, 404 for a collection or object that is not there (or not for the caller).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request, status
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from redlane.api import TAXII_PREFIX, actor, database
from redlane.api.messages import Key
from redlane.config import ConfigError
from redlane.exchange import mailbox, taxii
from redlane.security.accounts import Actor, Forbidden
from redlane.security.audit import AuditError
from redlane.store.database import Database

Store = Annotated[Database, Depends(database)]
Who = Annotated[Actor, Depends(actor)]
Purpose = Annotated[
    str,
    Header(
        alias="X-Redlane-Purpose",
        description=f"Why you pull (audited); {taxii.DEFAULT_PURPOSE!r} when not sent.",
    ),
]
ROOT = f"/{taxii.API_ROOT}"
COLLECTION = ROOT + "/collections/{collection_id}"


class TaxiiJSON(JSONResponse):
    media_type = taxii.TAXII_MEDIA_TYPE


def _acceptable(media_range: str) -> bool:
    media, *parameters = (p.strip().lower() for p in media_range.split(";"))
    if media in ("*/*", "application/*"):
        return True
    version = dict(p.partition("=")[::2] for p in parameters).get("version")
    return media == "application/taxii+json" and version in (None, "2.1")


def _accepts_taxii(accept: Annotated[str | None, Header()] = None) -> None:
    """406 unless the client accepts TAXII 2.1 (or anything)."""
    if accept is not None and not any(_acceptable(r) for r in accept.split(",")):
        raise HTTPException(
            status.HTTP_406_NOT_ACCEPTABLE,
            f"this server answers {taxii.TAXII_MEDIA_TYPE} only; Accept was {accept!r}",
        )


router = APIRouter(prefix=TAXII_PREFIX, tags=["taxii"], dependencies=[Depends(_accepts_taxii)])


def _filters(
    added_after: str | None = None,
    match_type: Annotated[str | None, Query(alias="match[type]")] = None,
    match_id: Annotated[str | None, Query(alias="match[id]")] = None,
    match_version: Annotated[str | None, Query(alias="match[version]")] = None,
    match_spec_version: Annotated[str | None, Query(alias="match[spec_version]")] = None,
) -> taxii.Filters:
    with _answers():
        return taxii.Filters.parse(
            added_after, match_type, match_id, match_version, match_spec_version
        )


def _limit(limit: str | None = None) -> int:
    with _answers():
        return taxii.limit_from(limit)


Filters = Annotated[taxii.Filters, Depends(_filters)]
Limit = Annotated[int, Depends(_limit)]
Next = Annotated[str | None, Query(alias="next", description="The `next` of the page before.")]


@contextmanager
def _answers() -> Iterator[None]:
    """Library errors as HTTP answers (written as TAXII error messages by `taxii_errors`)."""
    try:
        yield
    except (taxii.UnknownCollection, taxii.UnknownObject) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except Forbidden as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    except ConfigError as exc:  # before ValueError, which it is
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    except (taxii.TaxiiError, mailbox.MailboxError, AuditError) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc


def _error(status_code: int, description: str, headers: Mapping[str, str] | None) -> TaxiiJSON:
    body = {
        "title": HTTPStatus(status_code).phrase,
        "description": description,
        "http_status": str(status_code),
    }
    return TaxiiJSON(body, status_code, headers=headers)


def taxii_errors(app: FastAPI) -> None:
    """Errors under /taxii2/ (refusals, a missing token, an unknown route) as TAXII error
    messages; the rest of the API keeps FastAPI's."""

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not request.url.path.startswith(TAXII_PREFIX + "/"):
            return await http_exception_handler(request, exc)
        return _error(exc.status_code, str(exc.detail), exc.headers)

    async def on_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not request.url.path.startswith(TAXII_PREFIX + "/"):
            return await request_validation_exception_handler(request, exc)
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _error(status.HTTP_400_BAD_REQUEST, problems, None)

    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)


def _page(page: taxii.Page, body: dict[str, Any]) -> TaxiiJSON:
    return TaxiiJSON(body, headers=page.headers())


@router.get("/")
def get_discovery(request: Request) -> TaxiiJSON:
    """TAXII discovery: the API root."""
    return TaxiiJSON(taxii.discovery(str(request.url_for("get_discovery"))))


@router.get(ROOT + "/")
def get_api_root() -> TaxiiJSON:
    """The API root: TAXII 2.1, read-only."""
    return TaxiiJSON(taxii.api_root())


@router.get(ROOT + "/collections/")
def get_collections(who: Who) -> TaxiiJSON:
    """The collections you may read: `mailbox`, or none for a role that may not read and
    export messages."""
    found = taxii.collections(who)
    return TaxiiJSON({"collections": [c.to_dict() for c in found]} if found else {})


@router.get(COLLECTION + "/")
def get_collection(collection_id: str, who: Who) -> TaxiiJSON:
    """One collection."""
    with _answers():
        return TaxiiJSON(taxii.collection(who, collection_id).to_dict())


def _collection_page(
    collection_id: str,
    db: Store,
    who: Who,
    kek: Key,
    filters: Filters,
    limit: Limit,
    next_page: Next = None,
    purpose: Purpose = taxii.DEFAULT_PURPOSE,
) -> taxii.Page:
    with _answers():
        return taxii.collection_objects(db, who, purpose, collection_id=collection_id,
                                        filters=filters, limit=limit, next=next_page,
                                        kek=kek)  # fmt: skip


def _object_page(
    collection_id: str,
    object_id: str,
    db: Store,
    who: Who,
    kek: Key,
    filters: Filters,
    limit: Limit,
    next_page: Next = None,
    purpose: Purpose = taxii.DEFAULT_PURPOSE,
) -> taxii.Page:
    with _answers():
        return taxii.object_versions(db, who, purpose, object_id, collection_id=collection_id,
                                     filters=filters, limit=limit, next=next_page,
                                     kek=kek)  # fmt: skip


CollectionPage = Annotated[taxii.Page, Depends(_collection_page)]
ObjectPage = Annotated[taxii.Page, Depends(_object_page)]


@router.get(COLLECTION + "/objects/")
def get_objects(page: CollectionPage) -> TaxiiJSON:
    """An envelope of the collection's objects, oldest added first; each message read is an
    audited export."""
    return _page(page, page.envelope())


@router.get(COLLECTION + "/manifest/")
def get_manifest(page: CollectionPage) -> TaxiiJSON:
    """The ids, dates added, versions and media types of the objects `objects` would give."""
    return _page(page, page.manifest())


@router.get(COLLECTION + "/objects/{object_id}/")
def get_object(page: ObjectPage) -> TaxiiJSON:
    """An envelope of one object's versions; 404 when the collection has none for you."""
    return _page(page, page.envelope())


@router.get(COLLECTION + "/objects/{object_id}/versions/")
def get_object_versions(page: ObjectPage) -> TaxiiJSON:
    """The versions (timestamps) of one object."""
    return _page(page, page.versions())
