"""Object identifiers of a config read as links: ``copick.util.ontology.parse_identifier``."""

from __future__ import annotations

import pytest

from copick.metadata import PickableObject
from copick.util.ontology import Identifier, identifier_links, parse_identifier

GO_URL = "https://amigo.geneontology.org/amigo/term/GO:0000502"


@pytest.mark.parametrize(
    "text",
    [
        "GO:0000502",
        "go:0000502",
        "  GO:0000502\n",
        "Go: 0000502",
        "GO_0000502",
        "http://purl.obolibrary.org/obo/GO_0000502",
    ],
)
def test_go_terms_in_any_spelling_link_to_the_term(text: str) -> None:
    assert parse_identifier(text) == Identifier("GO", "GO:0000502", GO_URL)


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("UniProtKB:P12345", None, ("UniProtKB", "P12345")),
        ("uniprot:p12345", None, ("UniProtKB", "P12345")),
        ("P12345", None, ("UniProtKB", "P12345")),
        ("A0A023GPI8", None, ("UniProtKB", "A0A023GPI8")),
        ("P12345-2", None, ("UniProtKB", "P12345-2")),
        ("EMD-1234", None, ("EMDB", "EMD-1234")),
        ("emd_12345", None, ("EMDB", "EMD-12345")),
        ("EMDB:1234", None, ("EMDB", "EMD-1234")),
        ("1234", "emdb_id", ("EMDB", "EMD-1234")),
        ("PDB:3j9i", None, ("PDB", "3J9I")),
        ("pdb 3J9I", None, ("PDB", "3J9I")),
        ("3j9i", "pdb_id", ("PDB", "3J9I")),
        ("pdb_00003j9i", None, ("PDB", "3J9I")),
        ("0000502", "go", ("GO", "GO:0000502")),
    ],
)
def test_accessions_of_each_namespace(text: str, hint: str | None, expected: tuple[str, str]) -> None:
    parsed = parse_identifier(text, hint=hint)
    assert parsed is not None and (parsed.namespace, parsed.accession) == expected
    assert parsed.url.startswith("https://") and parsed.accession in parsed.url


@pytest.mark.parametrize(
    "text", [None, "", "   ", 42, "banana", "CHEBI:15377", "GO:123", "1234", "3J9I", "p12345", "go away"]
)
def test_empty_unknown_or_ambiguous_text_is_none(text: object) -> None:
    assert parse_identifier(text) is None


def test_an_objects_identifiers_are_all_found_once() -> None:
    meta = PickableObject(
        name="proteasome", is_particle=True, identifier="GO:0000502", emdb_id="1234", pdb_id="3J9I"
    )
    assert [i.namespace for i in identifier_links(meta)] == ["GO", "EMDB", "PDB"]
    assert identifier_links(PickableObject(name="x", is_particle=False)) == []


def test_copick_browse_shows_identifiers_with_their_links() -> None:
    from copick.cli.browser import details_of

    class _Object:
        name, is_particle, label, color = "proteasome", True, 1, (255, 0, 0, 255)
        meta = PickableObject(name="proteasome", is_particle=True, identifier="GO:0000502", pdb_id="weird id")

    rows = dict(details_of("object", _Object()))
    assert rows["identifier"] == f"GO:0000502 ({GO_URL})"
    assert rows["pdb_id"] == "weird id"  # not recognised: shown as it is
