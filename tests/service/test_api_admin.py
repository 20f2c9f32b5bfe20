"""Admin endpoints: token off/on, upload (types, sizes, skipped files), delete, rebuild, and asks during swaps."""
from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.api.app import create_app
from tests.conftest import SEED_QUESTION

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def letter(n: int, topic: str, unit: str = "教体局", date: str = "2024-06-1") -> str:
    """A fictional labelled reply letter (虚构示例) in the seed's layout."""
    return (f"建议/提案提出者: 测试委员{n} 建议/提案号: {100 + n}\n"
            f"标题: 关于{topic}的建议\n建议/提案内容:\n\n建议进一步推进{topic}，加强校企合作和产教融合。\n\n"
            f"承办单位: 主办: {unit} 协办: 人社局\n答复日期: {date}{n % 9 + 1}\n答复内容:\n\n测试委员{n}委员:\n\n"
            f"您提出的“关于{topic}的建议”的提案收悉，现答复如下：\n\n一、主要做法\n\n"
            f"(一){topic}扎实推进。2023年新增{topic}项目{n + 2}个，建成产教融合实训基地{n + 1}个，"
            f"与{n + 3}家企业开展校企合作，培养技术技能人才{100 * n}名。\n\n"
            f"二、下一步工作打算\n\n(一)深化产教融合。下一步将继续推进{topic}，完善校企合作机制，力争新增合作企业{n}家。\n\n"
            f"感谢您对我们工作的关心与支持！\n\n南通市通州区教育体育局\n2024年6月1{n % 9 + 1}日\n")


@pytest.fixture
def admin_settings(settings):
    return settings.model_copy(update={"admin_token": SecretStr(TOKEN), "max_upload_bytes": 50_000})


@pytest.fixture
def admin(admin_settings):
    with TestClient(create_app(admin_settings, with_ui=False)) as c:
        yield c


def upload(c, *files, headers=AUTH):
    return c.post("/api/replies", files=[("files", (name, data, "application/octet-stream")) for name, data in files],
                  headers=headers)


def test_admin_disabled_without_token(settings):
    with TestClient(create_app(settings, with_ui=False)) as c:
        for method, path in (("POST", "/api/replies"), ("DELETE", "/api/replies/28_20230630"), ("POST", "/api/index/rebuild")):
            r = c.request(method, path, headers=AUTH)
            assert r.status_code == 403, (method, path)
            assert r.json()["detail"].startswith("admin endpoints are disabled: set DAFU_ADMIN_TOKEN")
        assert c.get("/api/replies/28_20230630").status_code == 200  # nothing was removed


@pytest.mark.parametrize("headers, word", [({}, "missing"), ({"Authorization": "Bearer nope"}, "wrong"),
                                           ({"Authorization": f"Basic {TOKEN}"}, "missing")])
def test_admin_wrong_or_missing_token_is_401(admin, headers, word):
    for method, path in (("POST", "/api/replies"), ("DELETE", "/api/replies/28_20230630"), ("POST", "/api/index/rebuild")):
        r = admin.request(method, path, headers=headers)
        assert r.status_code == 401 and word in r.json()["detail"], (method, path, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
    assert admin.get("/api/stats").json()["replies"] == 1


def test_upload_indexes_incrementally_and_reports_skipped(admin):
    before = admin.get("/api/stats").json()
    r = upload(admin, ("公交.txt", letter(1, "城区公交线路优化").encode()), ("notes.txt", "你好，这不是答复。".encode()),
               ("gbk.txt", letter(2, "职业教育专业设置").encode("gb18030")))
    assert r.status_code == 201, r.text
    j = r.json()
    assert j["replies"] == 3 and j["version"] != before["index_version"]
    assert sorted(a["file"] for a in j["added"]) == ["gbk.txt", "公交.txt"]
    assert [s["file"] for s in j["skipped"]] == ["notes.txt"] and "uploads" not in j["skipped"][0]["reason"]
    assert j["reused"] >= before["chunks"]  # the seed's vectors came from the cache
    new_id = next(a["id"] for a in j["added"] if a["file"] == "公交.txt")
    d = admin.get(f"/api/replies/{new_id}").json()
    assert d["number"] == "101" and "城区公交线路优化" in d["title"] and d["source"].endswith("公交.txt")
    assert admin.get("/api/stats").json()["index_version"] == j["version"]
    a = admin.post("/api/ask", json={"question": "城区公交线路优化做了哪些工作？"}).json()
    assert a["citations"] and a["citations"][0]["reply_id"] == new_id
    # same file again: replaced, not duplicated
    r = upload(admin, ("again.txt", letter(1, "城区公交线路优化").encode()))
    assert r.status_code == 201 and r.json()["replies"] == 3


def test_upload_rejects_bad_type_size_and_empty(admin):
    r = upload(admin, ("virus.exe", b"MZ..."), ("ok.txt", letter(3, "就业").encode()))
    assert r.status_code == 415 and "virus.exe" in r.json()["detail"] and ".docx" in r.json()["detail"]
    r = upload(admin, ("big.txt", b"x" * 50_001))
    assert r.status_code == 413 and "50000" in r.json()["detail"] and "DAFU_MAX_UPLOAD_BYTES" in r.json()["detail"]
    r = admin.post("/api/replies", headers=AUTH, json={"files": []})
    assert r.status_code == 415 and "multipart/form-data" in r.json()["detail"]
    r = admin.post("/api/replies", headers=AUTH, data={"note": "no file"}, files=[("x", ("", b""))])
    assert r.status_code in (400, 415)
    r = upload(admin, ("bad.txt", "这不是答复".encode()))
    assert r.status_code == 400 and "no reply could be read" in r.json()["detail"] and "index is unchanged" in r.json()["detail"]
    r = upload(admin, ("old.doc", b"\xd0\xcf\x11\xe0 not really"))
    assert r.status_code == 400 and ".doc" in r.json()["detail"]
    assert admin.get("/api/stats").json()["replies"] == 1


def test_delete_and_rebuild(admin):
    r = upload(admin, ("a.txt", letter(4, "托育服务").encode()))
    rid = r.json()["added"][0]["id"]
    r = admin.delete(f"/api/replies/{rid}", headers=AUTH)
    assert r.status_code == 200 and r.json()["removed"] == [rid] and r.json()["replies"] == 1
    assert admin.get(f"/api/replies/{rid}").status_code == 404
    r = admin.delete(f"/api/replies/{rid}", headers=AUTH)
    assert r.status_code == 404 and rid in r.json()["detail"]
    v = admin.get("/api/stats").json()["index_version"]
    r = admin.post("/api/index/rebuild", headers=AUTH)
    assert r.status_code == 200 and r.json()["version"] != v and r.json()["replies"] == 1
    assert admin.post("/api/ask", json={"question": SEED_QUESTION}).json()["citations"]
    metrics = admin.get("/metrics").text
    assert 'dafu_index_writes_total{op="delete"} 1.0' in metrics and 'dafu_index_writes_total{op="rebuild"} 1.0' in metrics


def _version_replies(settings, version: str) -> dict[str, str]:
    from index.store import IndexStore

    return {rid: r.text for rid, r in IndexStore(settings.resolved_index_dir).load_version(version).replies.items()}


def test_concurrent_asks_during_index_swaps(admin, admin_settings):
    """Askers run while another thread adds files: every request succeeds and each answer is from one version."""
    versions = {admin.get("/api/stats").json()["index_version"]: None}
    versions = {v: _version_replies(admin_settings, v) for v in versions}
    question = "产教融合和校企合作方面做了哪些工作？"
    results: list[tuple[int, dict]] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def asker(i: int) -> None:
        try:
            while not stop.is_set():
                if i % 2:
                    r = admin.post("/api/ask", json={"question": question})
                else:
                    r = admin.post("/api/ask", json={"question": "那人社局呢？", "history": [{"question": question}]})
                results.append((r.status_code, r.json()))
        except BaseException as e:  # pragma: no cover - reported below
            failures.append(e)

    threads = [threading.Thread(target=asker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    try:
        for n in range(1, 5):
            r = upload(admin, (f"letter{n}.txt", letter(n, f"产教融合第{n}批项目").encode()))
            assert r.status_code == 201, r.text
            v = r.json()["version"]
            versions[v] = _version_replies(admin_settings, v)  # read while it is live (older ones are pruned)
        r = admin.delete(f"/api/replies/{r.json()['added'][0]['id']}", headers=AUTH)
        versions[r.json()["version"]] = _version_replies(admin_settings, r.json()["version"])
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not failures
    assert results and all(code == 200 for code, _ in results), [j for code, j in results if code != 200][:3]
    seen = {j["index_version"] for _, j in results}
    assert len(seen) >= 2, "the askers did not overlap a swap"
    for _, j in results:
        texts = versions[j["index_version"]]
        for c in j["citations"]:
            assert c["reply_id"] in texts, (j["index_version"], c["reply_id"])
            assert texts[c["reply_id"]][c["start"]:c["end"]] == c["passage"]
        for rel in j["related"]:
            assert rel["id"] in texts
    assert any(c["number"] != "28" for _, j in results for c in j["citations"]), "no answer used an added reply"


def test_version_written_by_another_process_is_picked_up(settings, tmp_path, seed_text):
    """`dafu index add` while `dafu serve` runs: the service swaps the new version in by itself."""
    import time

    from index.builder import Indexer
    from service.core import ServiceCore
    from tests.conftest import SEED_DIR

    Indexer(settings).build([SEED_DIR])
    core = ServiceCore(settings)
    core.start()
    before = core.state().index.version
    extra = tmp_path / "extra.txt"
    extra.write_text(seed_text.replace("建议/提案号: 28", "建议/提案号: 31").replace("产教融合", "养老服务"), encoding="utf-8")
    Indexer(settings).add([extra])  # as another process would
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        core._last_check = 0.0
        st = core.state()
        if st.index.version != before:
            break
        time.sleep(0.1)
    assert core.state().index.version != before
    assert len(core.state().index.replies) == 2
    core.close()
