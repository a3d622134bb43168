"""The Batch API's input-file checks and its store on disk: faults named by line, ids that cannot leave the
store, files and batches seen only by their owner, and a journal that survives a line cut by a crash."""

from __future__ import annotations

from pathlib import Path

import orjson

from app.serving.batches import records
from app.serving.batches.lines import read_lines
from app.storage.batches import BatchStore


def jsonl(*items: object) -> bytes:
    return b"\n".join(orjson.dumps(item) for item in items)


def line(custom_id: str, model: str = "m", url: str = "/v1/embeddings") -> dict[str, object]:
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": {"model": model, "input": "x"}}


def test_a_good_file_gives_its_lines_in_order_blank_lines_skipped() -> None:
    lines, faults = read_lines(jsonl(line("a"), line("b")) + b"\n\n" + jsonl(line("c")), "/v1/embeddings")
    assert faults == []
    assert [(x.index, x.custom_id) for x in lines] == [(0, "a"), (1, "b"), (3, "c")]


def test_every_fault_is_named_with_its_line_and_no_line_runs() -> None:
    data = jsonl(line("a"), line("a"), line("b", model="other"), line("c", url="/v1/chat/completions")) + b"\n[1]"
    lines, faults = read_lines(data, "/v1/embeddings")
    assert lines == []
    assert [(f["code"], f["line"]) for f in faults] == [
        ("duplicate_custom_id", 2),
        ("mismatched_model", 3),
        ("invalid_url", 4),
        ("invalid_json_line", 5),
    ]


def test_ids_of_the_wrong_shape_name_nothing(tmp_path: Path) -> None:
    store = BatchStore(tmp_path / "batches")
    (tmp_path / "secret.json").write_bytes(b'{"owner": "k", "id": "x"}')
    for file_id in ("../../secret", "file-../../../secret", "file-0123456789abcdef0123456Z", "/etc/passwd"):
        assert store.file("k", file_id) is None and store.content_path("k", file_id) is None
    assert store.batch("k", "batch_../../secret") is None


def test_a_file_is_its_owner_s_only(tmp_path: Path) -> None:
    store = BatchStore(tmp_path)
    meta = store.put_file({"owner": "alice", "purpose": "batch", "created_at": 1}, b"data")
    assert meta["bytes"] == 4 and store.file("alice", meta["id"]) is not None
    assert store.file("bob", meta["id"]) is None and store.list_files("bob") == []
    assert not store.delete_file("bob", meta["id"]) and store.file("alice", meta["id"]) is not None
    assert store.delete_file("alice", meta["id"]) and store.file("alice", meta["id"]) is None


def test_a_journal_line_cut_by_a_crash_is_skipped(tmp_path: Path) -> None:
    journal = BatchStore(tmp_path).journal("batch_" + "0" * 24)
    journal.append({"s": 0}, {"d": 0, "ok": True, "out": {}}, {"s": 1})
    journal.close()
    with journal.path.open("ab") as out:
        out.write(b'{"d": 1, "ok": tr')  # the process died here
    assert journal.read() == [{"s": 0}, {"d": 0, "ok": True, "out": {}}, {"s": 1}]


def test_one_process_runs_the_batches(tmp_path: Path) -> None:
    first, second = BatchStore(tmp_path), BatchStore(tmp_path)
    assert first.take_runner_lock() and not second.take_runner_lock()
    first.release_runner_lock()
    assert second.take_runner_lock()
    second.release_runner_lock()


def test_a_gateway_with_no_batch_writes_nothing_and_an_unwritable_dir_runs_nothing(tmp_path: Path) -> None:
    store = BatchStore(tmp_path / "batches")
    assert store.batches() == [] and store.list_files("k") == [] and not (tmp_path / "batches").exists()
    (tmp_path / "file").write_text("a file where the directory should be")
    assert not BatchStore(tmp_path / "file" / "batches").take_runner_lock()


def test_results_keep_the_input_order_and_name_the_lines_that_never_ran() -> None:
    lines, _ = read_lines(jsonl(line("a"), line("b"), line("c")), "/v1/embeddings")
    answered = {"response": {"status_code": 200, "body": {"usage": {"prompt_tokens": 3, "completion_tokens": 2}}}}
    refused = {"response": {"status_code": 400, "body": {"error": {}}}}
    done = {2: (True, answered), 0: (False, refused)}
    outputs, errors = records.results("batch_" + "1" * 24, lines, done, "cancelled")
    assert outputs == [answered]
    assert errors[0] == refused
    assert errors[1]["custom_id"] == "b" and errors[1]["response"] is None
    assert errors[1]["error"]["code"] == "batch_cancelled" and errors[1]["id"].startswith("batch_req_1111")
    usage = records.usage_of(outputs + errors)
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (3, 2, 5)
