"""A loopback CryoET Data Portal: graphql-core executing queries on the portal client's own schema.

Rows are plain dicts keyed by the schema's field names, one table per root list field (``runs``,
``tomograms``, ...). Relations are followed generically: ``x`` resolves through ``xId``, a connection
(``run.tomograms``) through the child's ``<parent>Id``; ``where`` filters (``_eq``, ``_in``, ...,
nested relation paths) and ``limitOffset`` / ``orderBy`` are evaluated the same way. Every POST is
counted, and ``fail_next`` injects HTTP errors, so tests can count and break requests.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_COMPARE = {
    "_eq": lambda v, a: v == a,
    "_neq": lambda v, a: v != a,
    "_in": lambda v, a: v in a,
    "_nin": lambda v, a: v not in a,
    "_gt": lambda v, a: v is not None and v > a,
    "_gte": lambda v, a: v is not None and v >= a,
    "_lt": lambda v, a: v is not None and v < a,
    "_lte": lambda v, a: v is not None and v <= a,
    "_is_null": lambda v, a: (v is None) == a,
    "_like": lambda v, a: v is not None and _like(v, a),
    "_ilike": lambda v, a: v is not None and _like(v.lower(), a.lower()),
}


def _like(value: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(value, pattern.replace("%", "*").replace("_", "?"))


def schema_path() -> str:
    """The GraphQL schema bundled in the ``cryoet-data-portal`` wheel."""
    import cryoet_data_portal

    return os.path.join(os.path.dirname(cryoet_data_portal.__file__), "data", "schema.graphql")


class FakePortal:
    """In-memory portal tables answering GraphQL queries."""

    def __init__(self, tables: dict[str, list[dict[str, Any]]]):
        from graphql import build_schema

        with open(schema_path()) as f:
            self.schema = build_schema(f.read())
        self.tables = tables
        query = self.schema.query_type
        self.table_of_type = {}
        for name, fld in query.fields.items():
            named = _named(fld.type)
            if _is_list(fld.type) and name in tables:
                self.table_of_type[named.name] = name
        self.by_id = {t: {r["id"]: r for r in rows} for t, rows in tables.items()}

    # --- relations ---------------------------------------------------------------------------

    def _children(self, parent_type: str, parent: dict, child_type: str) -> list[dict]:
        link = parent_type[0].lower() + parent_type[1:] + "Id"
        table = self.table_of_type.get(child_type)
        return [r for r in self.tables.get(table, []) if r.get(link) == parent["id"]] if table else []

    def _related(self, type_name: str, row: dict, field: str) -> Any:
        """The row(s) a relation field of ``row`` points at: one dict, or a list for connections."""
        from graphql import GraphQLObjectType

        ftype = _named(self.schema.type_map[type_name].fields[field].type)
        if ftype.name.endswith("Connection"):
            return self._children(type_name, row, ftype.name[: -len("Connection")])
        if isinstance(ftype, GraphQLObjectType):
            table = self.table_of_type.get(ftype.name)
            return self.by_id.get(table, {}).get(row.get(field + "Id")) if table else None
        return row.get(field)

    def matches(self, type_name: str, row: dict | None, where: dict | None) -> bool:
        if not where:
            return True
        if row is None:
            return False
        for field, cond in where.items():
            if any(k.startswith("_") for k in cond):
                value = row.get(field)
                if not all(_COMPARE[op](value, arg) for op, arg in cond.items() if arg is not None):
                    return False
                continue
            related = self._related(type_name, row, field)
            ftype = _named(self.schema.type_map[type_name].fields[field].type).name
            if isinstance(related, list):
                child = ftype[: -len("Connection")]
                if not any(self.matches(child, r, cond) for r in related):
                    return False
            elif not self.matches(ftype, related, cond):
                return False
        return True

    # --- execution ---------------------------------------------------------------------------

    def _resolve(self, parent: Any, info: Any, **args: Any) -> Any:
        from graphql import GraphQLNonNull, GraphQLObjectType

        name = info.field_name
        parent_type = info.parent_type.name
        rtype = info.return_type
        named = _named(rtype)
        if parent_type == "Query":
            table = self.table_of_type.get(named.name)
            rows = [r for r in self.tables.get(table, []) if self.matches(named.name, r, args.get("where"))]
            for order in reversed(args.get("orderBy") or []):
                for key, direction in order.items():
                    rows.sort(key=lambda r, k=key: (r.get(k) is None, r.get(k)), reverse="desc" in direction)
            page = args.get("limitOffset") or {}
            offset = page.get("offset") or 0
            limit = page.get("limit")
            rows = rows[offset : offset + limit if limit is not None else None]
            return rows if _is_list(rtype) else (rows[0] if rows else None)
        if isinstance(parent, dict) and name == "edges":
            return parent["edges"]
        if isinstance(parent, dict) and "_edge_node" in parent:
            return parent["_edge_node"] if name == "node" else str(parent["_edge_node"]["id"])
        if named.name == "PageInfo":
            return {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}
        if named.name.endswith("Connection"):
            rows = [r for r in self._children(parent_type, parent, named.name[:-10]) if self.matches(
                named.name[:-10], r, args.get("where"))]  # fmt: skip
            return {"edges": [{"_edge_node": r} for r in rows]}
        if isinstance(named, GraphQLObjectType):
            return self._related(parent_type, parent, name)
        if name in parent:
            return parent[name]
        if name == "_id":
            return f"{parent_type}:{parent['id']}"
        return _default(named) if isinstance(rtype, GraphQLNonNull) else None

    def execute(self, query: str, variables: dict | None = None) -> dict[str, Any]:
        from graphql import graphql_sync

        result = graphql_sync(self.schema, query, variable_values=variables, field_resolver=self._resolve)
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            out["errors"] = [e.formatted for e in result.errors]
        return out


def _named(t: Any) -> Any:
    while hasattr(t, "of_type"):
        t = t.of_type
    return t


def _is_list(t: Any) -> bool:
    from graphql import GraphQLList, GraphQLNonNull

    if isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLList)


def _default(named: Any) -> Any:
    from graphql import GraphQLEnumType

    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    return {"Int": 0, "Float": 0.0, "Boolean": False, "String": "", "ID": "0"}.get(named.name, "")


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog (5) drops the SYNs of a client opening 9 connections at
    # once; each dropped one costs a 1 s TCP retransmission: a real portal does not do that
    request_queue_size = 128


class PortalServer:
    """``FakePortal`` behind HTTP on 127.0.0.1; counts queries by root field, can fail on purpose."""

    def __init__(self, portal: FakePortal):
        self.portal = portal
        self.counts: Counter[str] = Counter()
        self.fail_next: list[int] = []  # HTTP statuses to answer to the next POSTs, in order
        self.delay = 0.0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                status = server._account(body.get("query", ""))
                if status:
                    self.send_response(status)
                    self.end_headers()
                    return
                if server.delay:
                    import time

                    time.sleep(server.delay)
                payload = json.dumps(server.portal.execute(body["query"], body.get("variables"))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/graphql"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _account(self, query: str) -> int | None:
        import re

        with self._lock:
            self.counts["POST"] += 1
            for field in re.findall(r"[{\s](\w+)\s*(?:\(|\{)", query)[:1]:
                self.counts[field] += 1
            return self.fail_next.pop(0) if self.fail_next else None

    def total(self) -> int:
        return self.counts["POST"]

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.fail_next.clear()
            self.delay = 0.0

    def start(self) -> PortalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve(tables: dict[str, list[dict[str, Any]]]) -> Iterator[PortalServer]:
    server = PortalServer(FakePortal(tables)).start()
    try:
        yield server
    finally:
        server.stop()
