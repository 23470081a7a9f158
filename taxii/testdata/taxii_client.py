#!/usr/bin/env python3
"""A small TAXII 2.1 client, written from the OASIS TAXII 2.1 specification
with Python's standard library alone, that walks a server as any outside
client would: discovery -> the default API root -> its collections -> one
collection, whose objects it pages through with ?limit= and ?next= until
the envelope says more is false.

    taxii_client.py URL USER PASSWORD COLLECTION_ID PER_PAGE

It authenticates with HTTP Basic and prints, as JSON, what it saw: the
collection's title and every object (id, type, modified) in the order
received, with the number of pages.
"""

import base64
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

MEDIA_TYPE = "application/taxii+json;version=2.1"


class TAXIIError(Exception):
    pass


class Client:
    def __init__(self, user, password):
        token = base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")
        self.auth = "Basic " + token

    def get(self, url, params=None):
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        req = urllib.request.Request(url, headers={"Accept": MEDIA_TYPE, "Authorization": self.auth})
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                ctype = res.headers.get("Content-Type", "")
                # Section 1.6.8: every answer is a TAXII 2.1 resource.
                if ctype.replace(" ", "") != MEDIA_TYPE:
                    raise TAXIIError(f"{url}: unexpected Content-Type {ctype!r}")
                return json.load(res), res.headers
        except urllib.error.HTTPError as e:
            raise TAXIIError(f"{url}: HTTP {e.code}: {e.read()[:300]!r}") from None


def main():
    url, user, password, collection_id, per_page = sys.argv[1:6]
    per_page = int(per_page)
    c = Client(user, password)
    discovery, _ = c.get(url)
    root = urllib.parse.urljoin(url, discovery.get("default") or discovery["api_roots"][0])
    api_root, _ = c.get(root)
    if MEDIA_TYPE not in api_root.get("versions", []):
        raise TAXIIError(f"API root {root} does not speak TAXII 2.1: {api_root}")
    collections, _ = c.get(urllib.parse.urljoin(root, "collections/"))
    found = [x for x in collections.get("collections", []) if x["id"] == collection_id]
    if not found:
        raise TAXIIError(f"no collection {collection_id}")
    col = found[0]
    if not col.get("can_read"):
        raise TAXIIError(f"collection {collection_id} is not readable")
    objects_url = urllib.parse.urljoin(root, f"collections/{collection_id}/objects/")
    seen, pages, params = [], 0, {"limit": per_page}
    while True:
        envelope, headers = c.get(objects_url, params)
        pages += 1
        objs = envelope.get("objects", [])
        if len(objs) > per_page:
            raise TAXIIError(f"page {pages}: {len(objs)} objects, over the limit {per_page}")
        if objs and not (headers.get("X-TAXII-Date-Added-First") and headers.get("X-TAXII-Date-Added-Last")):
            raise TAXIIError(f"page {pages}: no X-TAXII-Date-Added headers")
        for o in objs:
            seen.append({"id": o["id"], "type": o["type"], "modified": o.get("modified", "")})
        if not envelope.get("more"):
            break
        if not envelope.get("next"):
            raise TAXIIError(f"page {pages}: more without next")
        params = {"limit": per_page, "next": envelope["next"]}
        if pages > 10000:
            raise TAXIIError("no end to the pages")
    json.dump({"title": col["title"], "pages": pages, "objects": seen}, sys.stdout)


if __name__ == "__main__":
    try:
        main()
    except TAXIIError as e:
        print(f"taxii client: {e}", file=sys.stderr)
        sys.exit(1)
