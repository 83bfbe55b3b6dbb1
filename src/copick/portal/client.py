"""Raw GraphQL to the CryoET Data Portal: one paginated query per entity class, all classes at once.

The official client (``cryoet_data_portal``) parses its 200 kB schema per client, cannot paginate and
asks per run; here every class is fetched for all runs of the datasets in pages of ``PAGE_SIZE``
rows, concurrently, selecting only the fields copick uses. Transient failures (connection, timeout,
HTTP 429 / 5xx) are retried with exponential backoff and full jitter within ``retry_seconds``; then
one ``PortalUnreachableError`` names the URL. GraphQL errors (a bad query) are never retried.
"""

from __future__ import annotations

import json
import logging
import os
import random
import sys
import threading
import time
from typing import Any

from copick.errors import CopickError

DEFAULT_URL = "https://graphql.cryoetdataportal.czscience.com/graphql"
PAGE_SIZE = 1000
RETRY_SECONDS = 60.0  # total time spent retrying one request (COPICK_PORTAL_RETRY_SECONDS)
_TIMEOUT_S = 60.0
PROGRESS_AFTER_S = 1.5  # a fetch taking longer is announced on the terminal
_log = logging.getLogger(__name__)

_TOMOGRAM_FIELDS = (
    "id alignmentId depositionId runId tomogramVoxelSpacingId name sizeX sizeY sizeZ voxelSpacing "
    "fiducialAlignmentStatus reconstructionMethod processing tomogramVersion processingSoftware "
    "reconstructionSoftware isPortalStandard isAuthorSubmitted isVisualizationDefault s3OmezarrDir "
    "httpsOmezarrDir fileSizeOmezarr s3MrcFile httpsMrcFile fileSizeMrc scale0Dimensions scale1Dimensions "
    "scale2Dimensions ctfCorrected offsetX offsetY offsetZ keyPhotoUrl keyPhotoThumbnailUrl "
    "neuroglancerConfig publications relatedDatabaseEntries"
)
_ANNOTATION_FIELDS = (
    "id runId depositionId tomogramVoxelSpacingId s3MetadataPath httpsMetadataPath annotationPublication "
    "annotationMethod annotationIngestId groundTruthStatus objectId objectName objectDescription "
    "objectState objectCount confidencePrecision confidenceRecall groundTruthUsed annotationSoftware "
    "isCuratorRecommended methodType"
)
_IN_DATASETS = "datasetId: {_in: $ids}"
# root field -> (where clause reaching the datasets, selected fields)
QUERIES: dict[str, tuple[str, str]] = {
    "datasets": ("id: {_in: $ids}", "id title"),
    "runs": (_IN_DATASETS, "id name datasetId s3Prefix"),
    "tomogramVoxelSpacings": (f"run: {{{_IN_DATASETS}}}", "id runId voxelSpacing s3Prefix"),
    "tomograms": (f"run: {{{_IN_DATASETS}}}", _TOMOGRAM_FIELDS),
    "tomogramAuthors": (f"tomogram: {{run: {{{_IN_DATASETS}}}}}", "id tomogramId name authorListOrder"),
    "annotations": (f"run: {{{_IN_DATASETS}}}", _ANNOTATION_FIELDS),
    "annotationShapes": (f"annotation: {{run: {{{_IN_DATASETS}}}}}", "id annotationId shapeType"),
    "annotationFiles": (
        f"annotationShape: {{annotation: {{run: {{{_IN_DATASETS}}}}}}}",
        "id alignmentId annotationShapeId tomogramVoxelSpacingId format s3Path fileSize httpsPath "
        "isVisualizationDefault source",
    ),
    "annotationAuthors": (f"annotation: {{run: {{{_IN_DATASETS}}}}}", "id annotationId name authorListOrder"),
}


class PortalError(CopickError, ConnectionError):
    """The portal could not answer (after retries), or refused a query."""


class PortalUnreachableError(PortalError):
    """Transient failures lasted longer than the retry budget."""


class PortalQueryError(PortalError):
    """The portal answered with GraphQL errors (not retried)."""


def portal_url(configured: str | None = None) -> str:
    """The GraphQL endpoint: ``COPICK_PORTAL_URL``, else the config's ``portal_url``, else the portal's."""
    return os.environ.get("COPICK_PORTAL_URL") or configured or DEFAULT_URL


def query_text(field: str, offset: int, limit: int) -> str:
    """One page of one entity class, for the datasets in variable ``$ids``."""
    where, fields = QUERIES[field]
    return (
        f"query($ids: [Int!]) {{ {field}(where: {{{where}}}, orderBy: [{{id: asc}}], "
        f"limitOffset: {{limit: {limit}, offset: {offset}}}) {{ {fields} }} }}"
    )


def _transient(err: Exception) -> bool:
    import urllib.error

    if isinstance(err, urllib.error.HTTPError):
        return err.code == 429 or err.code >= 500
    return isinstance(err, (urllib.error.URLError, ConnectionError, TimeoutError, OSError))


def post(
    url: str, query: str, variables: dict[str, Any], retry_seconds: float | None = None
) -> dict[str, Any]:
    """The ``data`` of one GraphQL request, retried on transient failures within the time budget."""
    import urllib.request

    if retry_seconds is None:
        retry_seconds = float(os.environ.get("COPICK_PORTAL_RETRY_SECONDS", RETRY_SECONDS))
    body = json.dumps({"query": query, "variables": variables}).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "copick"}
    start, attempt = time.monotonic(), 0
    while True:
        attempt += 1
        try:
            request = urllib.request.Request(url, body, headers, method="POST")
            with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
                answer = json.loads(response.read())
            break
        except Exception as err:
            elapsed = time.monotonic() - start
            delay = random.uniform(0, min(8.0, 0.25 * 2**attempt))
            if not _transient(err):
                raise PortalQueryError(f"The CryoET Data Portal at {url} refused a query: {err}") from err
            if elapsed + delay > retry_seconds:
                raise PortalUnreachableError(
                    f"The CryoET Data Portal at {url} could not be reached: {err} "
                    f"({attempt} attempts over {elapsed:.1f} s). Check the network, or set "
                    "COPICK_PORTAL_URL to a reachable portal."
                ) from err
            _log.debug("portal %s: %s; retrying in %.1f s", url, err, delay)
            time.sleep(delay)
    if answer.get("errors"):
        messages = "; ".join(e.get("message", str(e)) for e in answer["errors"])
        raise PortalQueryError(f"The CryoET Data Portal at {url} rejected a query: {messages}")
    return answer["data"]


def _show_progress(url: str, dataset_ids: list[int]) -> None:
    """Tell a waiting user (on a terminal) why nothing happens yet."""
    if sys.stderr.isatty():
        print(
            f"copick: fetching metadata of datasets {dataset_ids} from {url} ...", file=sys.stderr, flush=True
        )


def fetch_class(url: str, field: str, dataset_ids: list[int]) -> list[dict[str, Any]]:
    """Every row of one entity class for the datasets, page by page."""
    rows: list[dict[str, Any]] = []
    while True:
        page = post(url, query_text(field, len(rows), PAGE_SIZE), {"ids": dataset_ids})[field]
        rows.extend(page)
        if len(page) < PAGE_SIZE:
            return rows


def fetch_tables(url: str, dataset_ids: list[int]) -> dict[str, list[dict[str, Any]]]:
    """All entity classes copick uses, for all runs of the datasets: one paginated query per class,
    the classes concurrently."""
    from concurrent.futures import ThreadPoolExecutor

    started = time.monotonic()
    notice = threading.Timer(PROGRESS_AFTER_S, _show_progress, (url, dataset_ids))
    notice.daemon = True
    notice.start()
    try:
        with ThreadPoolExecutor(max_workers=len(QUERIES)) as pool:
            futures = {field: pool.submit(fetch_class, url, field, dataset_ids) for field in QUERIES}
            tables = {field: future.result() for field, future in futures.items()}
    finally:
        notice.cancel()
    _log.info("portal %s: datasets %s fetched in %.1f s", url, dataset_ids, time.monotonic() - started)
    return tables
