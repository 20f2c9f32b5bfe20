"""Bounded ingestion: decompression bombs, huge text files, too many chunks, oversized uploads — refused and named."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from index.builder import Indexer
from index.errors import DafuError
from index.loader import load_paths
from service.api.app import create_app
from tests.conftest import SEED_DIR, SEED_FILE
from tests.faults.conftest import second_reply

PARA = '<w:p><w:r><w:t>关于积极推进产教融合的建议答复：全区新增五年制高职专业3个，产教融合深入推进。</w:t></w:r></w:p>'


def docx_bomb(path: Path, uncompressed: int) -> Path:
    """A real .docx whose word/document.xml unpacks to `uncompressed` bytes of paragraphs (deflate: <1 MB on disk)."""
    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    head = src.read("word/document.xml").decode("utf-8").split("<w:body>")[0] + "<w:body>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                z.writestr(info, src.read(info.filename))
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(head.encode())
            block = (PARA * 2000).encode()
            written = 0
            while written < uncompressed:
                f.write(block)
                written += len(block)
            f.write(b"</w:body></w:document>")
    return path


def test_docx_bomb_is_refused_before_parsing(cli, tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    bomb = docx_bomb(folder / "bomb.docx", 20 * 1024 * 1024)
    assert bomb.stat().st_size < 1024 * 1024
    (folder / "seed.txt").write_bytes(SEED_FILE.read_bytes())
    import docx

    opened = []
    real = docx.Document
    monkeypatch.setattr(docx, "Document", lambda *a, **k: opened.append(1) or real(*a, **k))
    res = cli("index", "build", str(folder), "--index", str(tmp_path / "idx"))
    assert res.exit_code == 0, res.output
    assert not opened  # python-docx never saw it
    out = " ".join(res.output.split())
    assert "bomb.docx" in out and "DAFU_MAX_DOCX_PART_BYTES" in out and "1 replies" in out


def test_xlsx_part_cap(settings, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["提案号", "标题", "答复内容"])
    for i in range(40):
        ws.append([str(i), f"标题{i}", "答复全文。" * 400])
    p = tmp_path / "big.xlsx"
    wb.save(p)
    rep = load_paths([p], {"limits": _limits(settings, max_xlsx_part_bytes=64 * 1024)})
    assert not rep.replies and "DAFU_MAX_XLSX_PART_BYTES" in rep.skipped[0].reason


def _limits(settings, **kw):
    from index.ingest_limits import IngestLimits

    return IngestLimits.from_settings(settings.model_copy(update=kw))


def test_huge_text_file_is_refused_by_characters_and_by_bytes(settings, tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "w", encoding="utf-8") as f:
        line = "关于积极推进产教融合的建议答复。全区新增五年制高职专业3个。\n"
        for _ in range(50 * 1024 * 1024 // len(line.encode()) + 1):
            f.write(line)
    assert big.stat().st_size >= 50 * 1024 * 1024
    res = Indexer(settings).build([big, SEED_FILE])
    assert res.replies == 1
    reasons = {Path(s.path).name: s.reason for s in res.report.skipped}
    assert "DAFU_MAX_FILE_BYTES" in reasons["big.txt"] or "DAFU_MAX_REPLY_CHARS" in reasons["big.txt"]
    rep = load_paths([big], {"limits": _limits(settings, max_file_bytes=1024 * 1024)})
    assert "DAFU_MAX_FILE_BYTES" in rep.skipped[0].reason
    small = tmp_path / "long.txt"
    small.write_text(SEED_FILE.read_text(encoding="utf-8") + "补充说明。" * 2000, encoding="utf-8")
    rep = load_paths([small], {"limits": _limits(settings, max_reply_chars=5000)})
    assert not rep.replies and "DAFU_MAX_REPLY_CHARS" in rep.skipped[0].reason


def test_chunks_per_reply_cap(settings, tmp_path):
    s = settings.model_copy(update={"max_chunks_per_reply": 3})
    with pytest.raises(DafuError) as e:
        Indexer(s).build([SEED_DIR])
    assert "DAFU_MAX_CHUNKS_PER_REPLY" in str(e.value) and "unchanged" in str(e.value)


def test_settings_from_the_environment(monkeypatch):
    from index.settings import Settings

    monkeypatch.setenv("DAFU_MAX_DOCX_PART_BYTES", "1000")
    monkeypatch.setenv("DAFU_MAX_UPLOAD_FILES", "3")
    monkeypatch.setenv("DAFU_CORS_ORIGINS", "https://a.example, https://b.example/")
    monkeypatch.setenv("DAFU_RATE_LIMIT_ASK", "5/second")
    s = Settings()
    assert (s.max_docx_part_bytes, s.max_upload_files) == (1000, 3)
    assert s.cors_origins == ["https://a.example", "https://b.example"]
    assert s.rate_limit_ask == "5/second"
    monkeypatch.setenv("DAFU_RATE_LIMIT_ASK", "lots")
    with pytest.raises(ValueError, match="DAFU_RATE_LIMIT_ASK"):
        Settings()


def test_upload_caps_on_files_and_bytes(settings, seed_index, tmp_path):
    s = settings.model_copy(update={"admin_token": SecretStr("t0ken"), "max_upload_files": 2,
                                    "max_upload_total_bytes": 10_000})
    auth = {"Authorization": "Bearer t0ken"}
    data = second_reply(tmp_path).read_bytes()
    with TestClient(create_app(s, with_ui=False)) as c:
        r = c.post("/api/replies", headers=auth, files=[("files", (f"{i}.txt", data)) for i in range(3)])
        assert r.status_code == 413 and "DAFU_MAX_UPLOAD_FILES" in r.json()["detail"], r.text
        assert len(data) * 2 > 10_000
        r = c.post("/api/replies", headers=auth, files=[("files", (f"{i}.txt", data)) for i in range(2)])
        assert r.status_code == 413 and "DAFU_MAX_UPLOAD_TOTAL_BYTES" in r.json()["detail"], r.text
        assert c.get("/api/stats").json()["replies"] == 1
