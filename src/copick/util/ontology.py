"""Object identifiers of a copick config as links: GO terms, UniProt accessions, EMDB and PDB ids.

``parse_identifier("GO:0000502")`` gives ``Identifier("GO", "GO:0000502", "https://...")``; text it
does not recognise gives ``None``. Schemes are case-insensitive (``go:``, ``UniProtKB:``, ``emdb:``,
``pdb:``), surrounding whitespace is ignored, and bare accessions are recognised where their form is
unambiguous (``EMD-1234``, a UniProt accession) or where the field says what they are
(``parse_identifier("1234", hint="emdb")`` for a config's ``emdb_id``). Pure functions, no imports.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

__all__ = ["NAMESPACES", "Identifier", "identifier_links", "parse_identifier"]


class Identifier(NamedTuple):
    """A recognised identifier: its namespace, the accession in its usual spelling, and a web page."""

    namespace: str  # "GO", "UniProtKB", "EMDB" or "PDB"
    accession: str  # "GO:0000502", "P12345", "EMD-1234", "3J9I"
    url: str


# namespace -> (URL template, accession pattern); the pattern is matched case-insensitively.
_UNIPROT = r"(?:[OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9](?:[A-Z][A-Z0-9]{2}[0-9]){1,2})(?:-[0-9]+)?"
NAMESPACES: dict[str, str] = {
    "GO": "https://amigo.geneontology.org/amigo/term/{}",
    "UniProtKB": "https://www.uniprot.org/uniprotkb/{}/entry",
    "EMDB": "https://www.ebi.ac.uk/emdb/{}",
    "PDB": "https://www.rcsb.org/structure/{}",
}

# Scheme words (lower case, as typed before ':' or a space) -> namespace.
_SCHEMES = {
    "go": "GO",
    "uniprot": "UniProtKB",
    "uniprotkb": "UniProtKB",
    "up": "UniProtKB",
    "emdb": "EMDB",
    "emd": "EMDB",
    "pdb": "PDB",
    "rcsb": "PDB",
    "pdbe": "PDB",
}
_HINTS = {"emdb_id": "EMDB", "pdb_id": "PDB", "identifier": None, "go_id": "GO"}

_GO = re.compile(r"(?:GO[:_])?(\d{7})", re.IGNORECASE)
_EMDB = re.compile(r"(?:EMD(?:B)?[-_:]?)?(\d{4,5})", re.IGNORECASE)
_PDB = re.compile(r"(?:pdb_0000)?([0-9][A-Z0-9]{3})", re.IGNORECASE)
_UNIPROT_RE = re.compile(_UNIPROT, re.IGNORECASE)
_SCHEME = re.compile(r"([A-Za-z]+)\s*[:\s]\s*(\S.*)")
_OBO_URL = re.compile(r"https?://purl\.obolibrary\.org/obo/GO_(\d{7})", re.IGNORECASE)


def _namespace_of(hint: Any) -> str | None:
    if hint is None:
        return None
    text = str(hint).strip()
    if text.lower() in _HINTS:
        return _HINTS[text.lower()]
    return _SCHEMES.get(text.lower()) or next((ns for ns in NAMESPACES if ns.lower() == text.lower()), None)


def _accession(namespace: str, text: str) -> str | None:
    """The accession of ``text`` in ``namespace`` in its usual spelling, or None if it is not one."""
    if namespace == "GO":
        m = _GO.fullmatch(text)
        return f"GO:{m.group(1)}" if m else None
    if namespace == "EMDB":
        m = _EMDB.fullmatch(text)
        return f"EMD-{m.group(1)}" if m else None
    if namespace == "PDB":
        m = _PDB.fullmatch(text)
        return m.group(1).upper() if m else None
    if namespace == "UniProtKB":
        return text.upper() if _UNIPROT_RE.fullmatch(text) else None
    return None


def _made(namespace: str, accession: str | None) -> Identifier | None:
    if accession is None:
        return None
    return Identifier(namespace, accession, NAMESPACES[namespace].format(accession))


def parse_identifier(text: Any, hint: str | None = None) -> Identifier | None:
    """The namespace, accession and URL of an object identifier, or ``None``.

    ``text`` may carry a scheme (``GO:0000502``, ``UniProtKB:P12345``, ``emdb:1234``, ``PDB 3J9I``,
    any case) or be a bare accession (``EMD-1234``, ``P12345``, ``GO_0000502``, an OBO PURL).
    ``hint`` names the namespace (``"emdb"``, ``"pdb"``, ``"go"``, ``"uniprot"``) or the config field
    the text comes from (``"emdb_id"``, ``"pdb_id"``, ``"identifier"``): with it, bare numbers and
    four-character codes are read as EMDB and PDB ids. ``None``, empty, non-text or unrecognised
    text gives ``None``; nothing raises.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text:
        return None
    m = _OBO_URL.fullmatch(text)
    if m:
        return _made("GO", f"GO:{m.group(1)}")
    m = _SCHEME.fullmatch(text)
    if m and m.group(1).lower() in _SCHEMES:
        namespace = _SCHEMES[m.group(1).lower()]
        rest = m.group(2).strip()
        if namespace == "GO":  # "GO:0000502" is the accession itself
            return _made("GO", _accession("GO", rest))
        return _made(namespace, _accession(namespace, rest))
    hinted = _namespace_of(hint)
    if hinted is not None:
        found = _made(hinted, _accession(hinted, text))
        if found is not None:
            return found
    if re.fullmatch(r"GO[:_]\d{7}", text, re.IGNORECASE):
        return _made("GO", _accession("GO", text))
    if re.fullmatch(r"EMD(?:B)?[-_]\d{4,5}", text, re.IGNORECASE):
        return _made("EMDB", _accession("EMDB", text))
    if re.fullmatch(r"pdb_0000[0-9][A-Z0-9]{3}", text, re.IGNORECASE):
        return _made("PDB", _accession("PDB", text))
    if _UNIPROT_RE.fullmatch(text) and text == text.upper():
        # bare UniProt accessions are taken in their usual upper-case spelling only, so that words
        # such as "a1b2c3" are not mistaken for one
        return _made("UniProtKB", text)
    return None


def identifier_links(meta: Any) -> list[Identifier]:
    """Every recognised identifier of a pickable object (``identifier``, ``emdb_id``, ``pdb_id``)."""
    found = []
    for field in ("identifier", "emdb_id", "pdb_id"):
        parsed = parse_identifier(getattr(meta, field, None), hint=field)
        if parsed is not None and parsed not in found:
            found.append(parsed)
    return found
