"""Existing clients against a running Peregrine (started by msticpy-check.sh).

1. msticpy 3.0.2, QueryProvider("MDE") and QueryProvider("M365DGraph"), configured by the
   file MSTICPYCONFIG names: each hunting query must return a non-empty DataFrame.
2. A plain urllib client in the manner of Microsoft's documented Python sample for
   advanced hunting (token from /{tenant}/oauth2/token with `resource`, then POST the
   query), for the MDE route and the Defender XDR route; only the base URLs differ from
   what the sample would call.

Prints one line per check; exits 1 on the first failure.
"""

import json
import os
import sys
import urllib.parse
import urllib.request
import warnings

BASE = os.environ["PEREGRINE_URL"].rstrip("/")
TENANT = os.environ["PEREGRINE_TENANT"]
CLIENT_ID = os.environ["PEREGRINE_CLIENT_ID"]
SECRET = os.environ["PEREGRINE_CLIENT_SECRET"]

QUERY = (
    "DeviceProcessEvents | where Timestamp > ago(7d) "
    "| summarize Executions = count(), Devices = dcount(DeviceId) by FileName "
    "| top 10 by Executions"
)


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
    if not ok:
        sys.exit(1)


def msticpy_checks():
    import pandas as pd
    from msticpy.data import QueryProvider

    warnings.simplefilter("ignore", DeprecationWarning)
    for provider, query in [
        ("MDE", QUERY),
        ("M365DGraph", QUERY),
        ("MDE", "DeviceLogonEvents | where ActionType == 'LogonSuccess' | take 20"),
        ("M365DGraph", "DeviceNetworkEvents | take 20 | project Timestamp, DeviceName, RemoteIP, RemotePort"),
    ]:
        qp = QueryProvider(provider)
        qp.connect()
        df = qp.exec_query(query)
        ok = isinstance(df, pd.DataFrame) and not df.empty
        check(
            f"msticpy {provider}: {query[:60]}",
            ok,
            f"{len(df)} rows, columns {list(df.columns)[:6]}" if ok else repr(df)[:500],
        )
        if ok and "Timestamp" in df.columns:
            # msticpy converts the schema's DateTime columns
            check(
                f"msticpy {provider}: Timestamp is a datetime column",
                pd.api.types.is_datetime64_any_dtype(df["Timestamp"]),
                str(df["Timestamp"].dtype),
            )


def sample_token(resource):
    """The token request of Microsoft's sample: v1 endpoint, form body with `resource`."""
    url = f"{BASE}/{TENANT}/oauth2/token"
    body = {
        "resource": resource,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "grant_type": "client_credentials",
    }
    data = urllib.parse.urlencode(body).encode("utf-8")
    with urllib.request.urlopen(urllib.request.Request(url, data)) as response:
        return json.loads(response.read())["access_token"]


def sample_query(path, token, query):
    """The hunting call of Microsoft's sample: JSON body {"Query": ...}, bearer token."""
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Authorization": "Bearer " + token,
    }
    data = json.dumps({"Query": query}).encode("utf-8")
    req = urllib.request.Request(BASE + path, data, headers)
    with urllib.request.urlopen(req) as response:
        return json.loads(response.read())


def urllib_checks():
    for resource, path in [
        ("https://api.securitycenter.microsoft.com", "/api/advancedqueries/run"),
        ("https://api.security.microsoft.com", "/api/advancedhunting/run"),
    ]:
        token = sample_token(resource)
        answer = sample_query(path, token, "DeviceRegistryEvents | limit 10")
        schema, results = answer["Schema"], answer["Results"]
        check(
            f"sample {path}",
            len(results) == 10 and len(schema) > 0 and set(results[0]) == {c["Name"] for c in schema},
            f"{len(results)} rows, {len(schema)} columns, Stats {json.dumps(answer.get('Stats', {}))[:160]}",
        )


if __name__ == "__main__":
    msticpy_checks()
    urllib_checks()
    print("all checks passed")
