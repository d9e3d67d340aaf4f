"""Validates CPSV-AP JSON-LD documents against the official SHACL shapes, offline.

usage: validate.py --shapes TTL --context JSONLD [--services N] [--expect-fail PATH] DOC...

Every document must conform (zero violations) unless --expect-fail is given, in
which case every document must fail with at least one violation whose path is
PATH (a full IRI). --services N requires exactly N cpsv:PublicService nodes in
each document.
"""

import argparse
import json
import socket
import sys

CONTEXT_PATH = "/contexts/cpsv-ap-3.2.0.jsonld"
PUBLIC_SERVICE = "http://purl.org/vocab/cpsv#PublicService"


def no_network(*_args, **_kwargs):
    raise RuntimeError("the validator tried to reach the network")


# Shut the network off before rdflib or pyshacl is loaded: parsing and
# validating must need nothing but the files given here.
socket.socket.connect = no_network
socket.socket.connect_ex = no_network
socket.create_connection = no_network
socket.getaddrinfo = no_network

import rdflib  # noqa: E402
from pyshacl import validate  # noqa: E402
from rdflib.namespace import RDF, SH  # noqa: E402


def localised(document, context):
    """The document with any reference to Concord's context URL replaced by the local copy."""
    contexts = document.get("@context")
    if not isinstance(contexts, list):
        contexts = [contexts]
    replaced = []
    for entry in contexts:
        if isinstance(entry, str):
            if not entry.endswith(CONTEXT_PATH):
                sys.exit(f"unexpected remote context {entry}: it would need the network")
            entry = context
        replaced.append(entry)
    return {**document, "@context": replaced}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", required=True)
    parser.add_argument("--context", required=True)
    parser.add_argument("--services", type=int)
    parser.add_argument("--expect-fail", metavar="PATH")
    parser.add_argument("documents", nargs="+")
    args = parser.parse_args()

    with open(args.context, encoding="utf-8") as f:
        context = json.load(f)["@context"]
    shapes = rdflib.Graph().parse(args.shapes, format="turtle")

    ok = True
    for path in args.documents:
        with open(path, encoding="utf-8") as f:
            document = localised(json.load(f), context)
        data = rdflib.Graph().parse(data=json.dumps(document), format="json-ld")
        services = len(set(data.subjects(RDF.type, rdflib.URIRef(PUBLIC_SERVICE))))
        conforms, report, text = validate(
            data, shacl_graph=shapes, inference="none", abort_on_first=False
        )
        violations = [
            r for r in report.subjects(RDF.type, SH.ValidationResult)
            if report.value(r, SH.resultSeverity) == SH.Violation
        ]
        paths = {str(report.value(r, SH.resultPath)) for r in violations}
        print(
            f"cpsv-ap: {path}: {len(data)} triples, {services} PublicService, "
            f"{len(violations)} violations"
        )
        if args.services is not None and services != args.services:
            print(f"cpsv-ap: expected {args.services} PublicService, found {services}")
            ok = False
        if args.expect_fail:
            if conforms or args.expect_fail not in paths:
                print(f"cpsv-ap: {path} should have failed on {args.expect_fail}; paths: {paths}")
                ok = False
        elif not conforms or violations:
            print(text)
            ok = False
    sys.exit(0 if ok else 1)


main()
