"""The stand-in API itself: pagination, tokens, rate limit, faults, CRUD, request log."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from clockify_standin.data import seed_workspace_data
from clockify_standin.server import StandinServer
from clockify_standin.signing import TokenMinter
from clockify_standin.testing import hex_id


@pytest.fixture
def ws_id(standin) -> str:
    workspace_id = hex_id()
    standin.seed_workspace(workspace_id, size=200, seed=7)
    return workspace_id


def minter_for(keys, workspace_id: str, backend_url: str) -> TokenMinter:
    return TokenMinter(keys.private_pem, addon_key="clockify-universal-webhook", workspace_id=workspace_id,
                       addon_id=hex_id(), backend_url=backend_url)


@pytest.fixture
def api(standin, ws_id, clockify_keys):
    session = requests.Session()
    session.headers["X-Addon-Token"] = minter_for(clockify_keys, ws_id, standin.backend_url).installation_token()
    root = f"{standin.backend_url}/v1/workspaces/{ws_id}"

    def call(method: str, path: str, **kwargs):
        return session.request(method, root + path, timeout=10, **kwargs)

    yield call
    session.close()


def test_seed_is_deterministic_and_scales_to_10000(standin):
    a = standin.seed_workspace(hex_id(), size=10_000, seed=3)
    assert 9_900 <= a.total <= 10_100
    assert all(len(a.entities[t]) > 0 for t in a.entities)
    b = seed_workspace_data(a.workspace_id, size=10_000, seed=3)
    assert list(a.entities["projects"]) == list(b.entities["projects"])
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in a.entities["time-entries"])
    c = seed_workspace_data(a.workspace_id, size=10_000, seed=4)
    assert list(c.entities["projects"]) != list(a.entities["projects"])


def test_pagination_last_page_and_short_last_page(api, standin, ws_id):
    projects = list(standin.workspace(ws_id).entities["projects"].values())
    assert len(projects) == 16
    seen = []
    for page in (1, 2, 3):
        r = api("GET", "/projects", params={"page": page, "page-size": 7})
        assert r.status_code == 200
        assert r.headers["Last-Page"] == ("true" if page == 3 else "false")
        seen += r.json()
    assert len(r.json()) == 2  # the short last page
    assert [p["id"] for p in seen] == [p["id"] for p in projects]
    r = api("GET", "/projects")  # default page-size 50
    assert len(r.json()) == 16 and r.headers["Last-Page"] == "true"
    r = api("GET", "/projects", params={"page": 9, "page-size": 7})
    assert r.json() == [] and r.headers["Last-Page"] == "true"


@pytest.mark.parametrize("params", [{"page": 0}, {"page": "x"}, {"page-size": -1}])
def test_bad_pagination_is_400(api, params):
    r = api("GET", "/clients", params=params)
    assert r.status_code == 400
    assert set(r.json()) == {"message", "code"}


def test_tasks_time_entries_and_filters(api, standin, ws_id):
    ws = standin.workspace(ws_id)
    project_id = next(iter(ws.entities["projects"]))
    tasks = api("GET", f"/projects/{project_id}/tasks").json()
    assert tasks and all(t["projectId"] == project_id for t in tasks)
    user_id = ws.owner_id
    created = api("POST", f"/user/{user_id}/time-entries", json={
        "start": "2030-01-02T09:00:00Z", "end": "2030-01-02T10:30:00Z", "description": "stand-in test",
        "projectId": project_id})
    assert created.status_code == 201
    assert created.json()["timeInterval"]["duration"] == "PT1H30M"
    listed = api("GET", f"/user/{user_id}/time-entries",
                 params={"start": "2030-01-01T00:00:00Z", "end": "2030-01-03T00:00:00Z"}).json()
    assert [e["id"] for e in listed] == [created.json()["id"]]
    assert api("DELETE", f"/time-entries/{created.json()['id']}").status_code == 204
    assert created.json()["id"] not in ws.entities["time-entries"]
    assert api("GET", "/projects", params={"name": "apollo project 1", "strict-name-search": "true"}).json()[0][
        "name"] == "Apollo Project 1"


def test_crud_and_validation(api, standin, ws_id):
    ws = standin.workspace(ws_id)
    before = len(ws.entities["projects"])
    client_id = next(iter(ws.entities["clients"]))
    r = api("POST", "/projects", json={"name": "Stand-in test", "clientId": client_id})
    assert r.status_code == 201
    project = r.json()
    assert len(project["id"]) == 24 and project["clientName"] == ws.entities["clients"][client_id]["name"]
    assert api("POST", "/projects", json={"name": "Stand-in test"}).status_code == 400  # names are unique
    assert api("POST", "/projects", json={"color": "#000"}).status_code == 400  # name required
    assert api("POST", "/projects", data=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert len(ws.entities["projects"]) == before + 1
    r = api("PUT", f"/projects/{project['id']}", json={"name": "Renamed", "id": "ignored"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed" and r.json()["id"] == project["id"]
    assert api("DELETE", f"/projects/{project['id']}").status_code == 200
    assert api("GET", f"/projects/{project['id']}").status_code == 404
    assert api("GET", "/nothing-here").status_code == 404


def test_user_workspaces_and_addon_settings(standin, ws_id, clockify_keys, api):
    token = minter_for(clockify_keys, ws_id, standin.backend_url).installation_token(
        user_id=standin.workspace(ws_id).owner_id)
    headers = {"X-Addon-Token": token}
    me = requests.get(f"{standin.backend_url}/v1/user", headers=headers, timeout=5).json()
    assert me["id"] == standin.workspace(ws_id).owner_id
    workspaces = requests.get(f"{standin.backend_url}/v1/workspaces", headers=headers, timeout=5).json()
    assert [w["id"] for w in workspaces] == [ws_id]
    standin.set_addon_settings(ws_id, {"tabs": [{"id": "t", "name": "T", "groups": [
        {"id": "g", "title": "G", "settings": [{"id": "enable_flows", "type": "CHECKBOX", "value": True}]}]}]})
    url = f"{standin.backend_url}/addon/workspaces/{ws_id}/settings"
    r = requests.patch(url, json=[{"id": "enable_flows", "value": False}], headers=headers, timeout=5)
    assert r.status_code == 200
    assert requests.get(url, headers=headers, timeout=5).json()["tabs"][0]["groups"][0]["settings"][0]["value"] is False
    r = requests.patch(url, json=[{"id": "nope", "value": 1}], headers=headers, timeout=5)
    assert r.status_code == 400


def test_token_checks(standin, ws_id, clockify_keys, foreign_keys):
    url = f"{standin.backend_url}/v1/workspaces/{ws_id}/projects"
    before = len(standin.workspace(ws_id).entities["projects"])
    missing = requests.post(url, json={"name": "x"}, timeout=5)
    assert missing.status_code == 401 and "message" in missing.json()
    forged = minter_for(foreign_keys, ws_id, standin.backend_url).installation_token()
    assert requests.post(url, json={"name": "x"}, headers={"X-Addon-Token": forged}, timeout=5).status_code == 401
    other = minter_for(clockify_keys, hex_id(), standin.backend_url).installation_token()
    r = requests.post(url, json={"name": "x"}, headers={"X-Addon-Token": other}, timeout=5)
    assert r.status_code == 403 and r.json()["code"] == 1003
    minter = minter_for(clockify_keys, ws_id, standin.backend_url)
    expired = minter.lifecycle_token(ttl_seconds=-60)
    assert requests.get(url, headers={"X-Addon-Token": expired}, timeout=5).status_code == 401
    wrong_type = minter.sign(minter.base_claims(type="user"))
    assert requests.get(url, headers={"X-Addon-Token": wrong_type}, timeout=5).status_code == 401
    hs256 = minter.sign(minter.base_claims(), algorithm="HS256", key="a-shared-secret-of-at-least-32-bytes!")
    assert requests.get(url, headers={"X-Addon-Token": hs256}, timeout=5).status_code == 401
    assert len(standin.workspace(ws_id).entities["projects"]) == before
    assert standin.request_log.count(status=401) == 5 and standin.request_log.count(status=403) == 1


def test_429_under_load_per_workspace(standin, ws_id, clockify_keys):
    standin.configure(rate_limit_per_second=20)
    other_ws = hex_id()
    standin.seed_workspace(other_ws, size=50)
    token = minter_for(clockify_keys, ws_id, standin.backend_url).installation_token()
    url = f"{standin.backend_url}/v1/workspaces/{ws_id}/tags"

    def hammer(_: int) -> list[int]:
        with requests.Session() as s:
            s.headers["X-Addon-Token"] = token
            return [s.get(url, timeout=10).status_code for _ in range(20)]

    with ThreadPoolExecutor(4) as pool:
        statuses = [code for chunk in pool.map(hammer, range(4)) for code in chunk]
    assert statuses.count(429) > 0 and statuses.count(200) >= 20
    limited = next(c for c in standin.request_log.calls(status=429))
    assert limited.workspace_id == ws_id
    assert standin.request_log.peak_per_second(ws_id, accepted_only=True) <= 20
    assert standin.request_log.count(workspace_id=ws_id) == 80
    assert standin.request_log.peak_per_second(ws_id) > 20  # a 429 means more than 20 arrived within 1 s
    # another workspace has its own budget
    other = minter_for(clockify_keys, other_ws, standin.backend_url).installation_token()
    r = requests.get(f"{standin.backend_url}/v1/workspaces/{other_ws}/tags", headers={"X-Addon-Token": other},
                     timeout=5)
    assert r.status_code == 200
    # the 429 body is JSON; Retry-After only when configured
    r429 = None
    for _ in range(40):
        r429 = requests.get(url, headers={"X-Addon-Token": token}, timeout=5)
        if r429.status_code == 429:
            break
    assert r429 is not None and r429.status_code == 429 and r429.json()["code"] == 1015
    assert "Retry-After" not in r429.headers
    standin.configure(retry_after=2)
    for _ in range(40):
        r429 = requests.get(url, headers={"X-Addon-Token": token}, timeout=5)
        if r429.status_code == 429:
            break
    assert r429.status_code == 429 and r429.headers["Retry-After"] == "2"


def _statuses(server: StandinServer, token: str, url: str, n: int) -> list[int]:
    with requests.Session() as s:
        s.headers["X-Addon-Token"] = token
        return [s.get(url, timeout=5).status_code for _ in range(n)]


def test_fault_injection_is_deterministic_and_configurable(clockify_keys):
    ws = hex_id()
    runs = []
    for _ in range(2):
        with StandinServer(clockify_keys.public_pem, rate_limit_per_second=None, fault_5xx_rate=0.3,
                           fault_seed=11) as server:
            server.seed_workspace(ws, size=30)
            token = minter_for(clockify_keys, ws, server.backend_url).installation_token()
            runs.append(_statuses(server, token, f"{server.backend_url}/v1/workspaces/{ws}/clients", 100))
            server.configure(fault_5xx_rate=0.0)
            assert set(_statuses(server, token, f"{server.backend_url}/v1/workspaces/{ws}/clients", 20)) == {200}
    assert runs[0] == runs[1]
    faults = [s for s in runs[0] if s >= 500]
    assert 15 <= len(faults) <= 45 and set(faults) <= {500, 502, 503}
    with pytest.raises(ValueError):
        StandinServer(clockify_keys.public_pem, fault_5xx_rate=2)


def test_injected_latency_delays_answers(standin, ws_id, clockify_keys):
    token = minter_for(clockify_keys, ws_id, standin.backend_url).installation_token()
    standin.configure(latency_ms=150)
    started = time.monotonic()
    r = requests.get(f"{standin.backend_url}/v1/workspaces/{ws_id}/tags", headers={"X-Addon-Token": token}, timeout=5)
    assert r.status_code == 200 and time.monotonic() - started >= 0.15  # a lower bound, not a speed claim


def test_request_log_filters_and_reset(api, standin, ws_id):
    api("GET", "/tags")
    api("GET", "/tags", params={"page": 2})
    api("POST", "/tags", json={"name": "logged"})
    log = standin.request_log
    assert log.count(method="GET", path_contains="/tags", workspace_id=ws_id) == 2
    post = log.calls(method="POST")[0]
    assert post.status == 201 and post.path.endswith("/tags") and post.workspace_id == ws_id
    assert log.calls(method="GET")[1].query == {"page": "2"}
    assert log.peak_per_second(ws_id) == 3
    log.reset()
    assert log.count() == 0


def test_unknown_workspace_is_404_unless_auto_seeded(clockify_keys):
    ws = hex_id()
    with StandinServer(clockify_keys.public_pem) as strict, \
            StandinServer(clockify_keys.public_pem, auto_seed_size=40) as lenient:
        for server, expected in ((strict, 404), (lenient, 200)):
            token = minter_for(clockify_keys, ws, server.backend_url).installation_token()
            r = requests.get(f"{server.backend_url}/v1/workspaces/{ws}/users?include-roles=false", headers={"X-Addon-Token": token},
                             timeout=5)
            assert r.status_code == expected
        assert lenient.workspace(ws).total >= 20


def test_timer_start_stop_and_hydrated_entries(api, standin, ws_id):
    ws = standin.workspace(ws_id)
    user_id, task = ws.owner_id, next(iter(ws.entities["tasks"].values()))
    tag_id = next(iter(ws.entities["tags"]))
    started = api("POST", f"/user/{user_id}/time-entries", json={
        "start": "2030-02-01T09:00:00Z", "projectId": task["projectId"], "taskId": task["id"], "tagIds": [tag_id]})
    assert started.status_code == 201 and started.json()["timeInterval"]["end"] is None
    running = api("GET", f"/user/{user_id}/time-entries", params={"in-progress": "true", "hydrated": "true"}).json()
    assert [e["id"] for e in running] == [started.json()["id"]]
    assert running[0]["project"]["id"] == task["projectId"] and running[0]["tags"][0]["id"] == tag_id
    assert api("PATCH", f"/user/{user_id}/time-entries", json={"end": "2030-02-01T08:00:00Z"}).status_code == 400
    stopped = api("PATCH", f"/user/{user_id}/time-entries", json={"end": "2030-02-01T09:45:00Z"})
    assert stopped.status_code == 200 and stopped.json()["timeInterval"]["duration"] == "PT45M"
    assert api("PATCH", f"/user/{user_id}/time-entries", json={"end": "2030-02-01T10:00:00Z"}).status_code == 404
    assert api("POST", f"/user/{hex_id()}/time-entries", json={"start": "2030-02-01T09:00:00Z"}).status_code == 404
    assert api("POST", f"/user/{user_id}/time-entries", json={"start": "yesterday"}).status_code == 400


def test_detailed_report_under_reports_url(standin, ws_id, clockify_keys):
    token = minter_for(clockify_keys, ws_id, standin.backend_url).installation_token()
    url = f"{standin.reports_url}/v1/workspaces/{ws_id}/reports/detailed"
    body = {"dateRangeStart": "2025-01-01T00:00:00Z", "dateRangeEnd": "2027-01-01T00:00:00Z",
            "detailedFilter": {"page": 1, "pageSize": 10}}
    r = requests.post(url, json=body, headers={"X-Addon-Token": token}, timeout=5)
    assert r.status_code == 200 and len(r.json()["timeentries"]) == 10
    assert r.json()["totals"][0]["entriesCount"] == len(standin.workspace(ws_id).entities["time-entries"])
    assert requests.post(url, json=body, timeout=5).status_code == 401
