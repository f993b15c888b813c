#!/usr/bin/env python3
"""Baluarte's TAXII 2.1 server as the OASIS client (taxii2-client) sees it.

Usage: taxii_client.py <discovery-url> <api-token>

Basic auth, user `token`, password the API token (what taxii2-client sends). Checks: discovery and the
API root; the collection list; GREEN's objects paged two at a time (at least two pages) add up to an
unpaged fetch, without repeats; the manifest lists the same objects; the match[type], match[id] and
match[version] filters, paged too; an object's versions; adding objects to the read-only GREEN
collection is 403; without credentials discovery is 401; the AMBER+STRICT collection is advertised unreadable and reading it is 403. Prints what it checked;
exits non-zero on the first failure.
"""

import sys

import requests
from taxii2client.v21 import Server, as_pages

GREEN = "TLP:GREEN"
STRICT = "TLP:AMBER+STRICT"
MEDIA = "application/taxii+json;version=2.1"


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def status_of(call):
    """The HTTP status a taxii2-client call failed with, or None when it succeeded."""
    try:
        call()
    except requests.exceptions.HTTPError as e:
        return e.response.status_code
    return None


def main():
    url, token = sys.argv[1], sys.argv[2]
    server = Server(url, user="token", password=token)
    check(server.title == "Baluarte TAXII 2.1", f"discovery: title {server.title!r}")
    check(len(server.api_roots) == 1, f"discovery: {len(server.api_roots)} API root")
    root = server.default or server.api_roots[0]
    check(root.url.endswith("/taxii2/api/"), f"default API root {root.url}")
    check(MEDIA in root.versions, f"API root versions {root.versions}")
    check(root.max_content_length > 0, f"API root max_content_length {root.max_content_length}")

    collections = {c.title: c for c in root.collections}
    check(
        {"TLP:CLEAR", GREEN, "TLP:AMBER", STRICT} <= set(collections),
        f"collections {sorted(collections)}",
    )
    green = collections[GREEN]
    check(green.can_read and not green.can_write, "GREEN is readable and read-only")

    whole = green.get_objects()
    everything = whole.get("objects", [])
    check(len(everything) >= 3, f"GREEN unpaged: {len(everything)} objects, more={whole.get('more')}")
    check(not whole.get("more"), "an unpaged fetch has no more")

    pages = list(as_pages(green.get_objects, per_request=2))
    sizes = [len(p.get("objects", [])) for p in pages]
    check(len(pages) >= 2, f"paged two at a time: {len(pages)} pages of sizes {sizes}")
    check(all(s <= 2 for s in sizes), "no page is larger than asked")
    paged_ids = [o["id"] for p in pages for o in p.get("objects", [])]
    check(len(paged_ids) == len(everything), f"paged count {len(paged_ids)} = unpaged {len(everything)}")
    check(len(set(paged_ids)) == len(paged_ids), "no object twice across pages")
    check(set(paged_ids) == {o["id"] for o in everything}, "the same objects paged and unpaged")
    check(all(o.get("spec_version") == "2.1" for o in everything), "every object is STIX 2.1")

    manifest = green.get_manifest()
    records = manifest.get("objects", [])
    check({r["id"] for r in records} == {o["id"] for o in everything}, f"manifest lists the {len(records)} objects")
    check(all(r.get("date_added") and r.get("version") and r.get("media_type") for r in records),
          "manifest records carry date_added, version and media_type")

    # The TAXII 2.1 filters, as the client's keyword arguments send them (match[type], match[id], ...).
    incidents = [o["id"] for o in everything if o["type"] == "incident"]
    only = [o["id"] for o in green.get_objects(type="incident").get("objects", [])]
    check(only == incidents, f"match[type]=incident gives the {len(incidents)} incidents")
    indicators = [o["id"] for o in everything if o["type"] == "indicator"]
    paged = [o["id"] for p in as_pages(green.get_objects, per_request=1, type="indicator") for o in p.get("objects", [])]
    check(paged == indicators, f"match[type]=indicator one at a time: {len(paged)} indicators")
    picked = [o["id"] for o in green.get_objects(id=[incidents[-1], indicators[0]]).get("objects", [])]
    check(sorted(picked) == sorted([incidents[-1], indicators[0]]), "match[id] with two ids")
    first = next(o for o in everything if o["type"] == "incident")
    same = green.get_objects(version=first["modified"]).get("objects", [])
    # An object with a version of its own carries that one; a cyber-observable's version is when it was
    # added, which is its incident's.
    own_version = lambda o: o.get("modified", o.get("created", first["modified"]))  # noqa: E731
    check(first["id"] in [o["id"] for o in same] and all(own_version(o) == first["modified"] for o in same),
          f"match[version]={first['modified']}")
    check([o["id"] for o in green.get_objects(version="first").get("objects", [])] == [o["id"] for o in everything],
          "match[version]=first: one version of each object")
    records = green.get_manifest(type="incident").get("objects", [])
    check([r["id"] for r in records] == incidents, "the manifest filters alike")

    one = everything[0]["id"]
    got = green.get_object(one)
    check([o["id"] for o in got.get("objects", [])] == [one], f"get an object by id: {one}")
    versions = green.object_versions(first["id"])
    check(versions.get("versions") == [first["modified"]] and not versions.get("more"),
          f"the versions of {first['id']}: {versions.get('versions')}")
    check(status_of(lambda: green.object_versions("indicator--00000000-0000-4000-8000-000000000000")) == 404,
          "the versions of an unknown object are 404")
    # The client refuses to write to a collection whose can_write is false; ask the server itself.
    code = status_of(lambda: green._conn.post(green.objects_url, headers={"Accept": MEDIA, "Content-Type": MEDIA},
                                              json={"objects": [first]}))
    check(code == 403, f"adding objects to the read-only GREEN collection is {code}")

    anonymous = Server(url)
    check(status_of(lambda: anonymous.title) == 401, "discovery without credentials is 401")
    wrong = Server(url, user="token", password="blt_not-a-real-token")
    check(status_of(lambda: wrong.title) == 401, "discovery with a wrong token is 401")

    strict = collections[STRICT]
    check(not strict.can_read, "AMBER+STRICT is advertised as not readable")
    # The client refuses locally; ask the server itself.
    code = status_of(lambda: strict._conn.get(strict.objects_url, headers={"Accept": MEDIA}))
    check(code == 403, f"reading AMBER+STRICT objects is {code}")
    code = status_of(lambda: strict._conn.get(strict.url + "manifest/", headers={"Accept": MEDIA}))
    check(code == 403, f"reading AMBER+STRICT manifest is {code}")
    print(f"taxii2-client: all checks passed ({len(everything)} GREEN objects over {len(pages)} pages)")


if __name__ == "__main__":
    main()
