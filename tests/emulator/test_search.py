"""GET /ai/models/search and /ai/tasks/search."""

from __future__ import annotations

from tests.emulator.conftest import ACCOUNT, TOKEN, Emulator


def test_models_search_pagination(emu: Emulator) -> None:
    everything = emu.ai("GET", "models/search?per_page=1000").json()
    total = everything["result_info"]["total_count"]
    assert total == len(everything["result"]) > 40
    page = emu.ai("GET", "models/search?per_page=10&page=2").json()
    assert page["success"] is True and list(page) == ["result", "result_info", "success", "errors", "messages"]
    assert page["result_info"] == {"page": 2, "per_page": 10, "count": 10, "total_count": total}
    assert [model["name"] for model in page["result"]] == [model["name"] for model in everything["result"][10:20]]
    past_end = emu.ai("GET", "models/search?per_page=10&page=99").json()
    assert past_end["result"] == [] and past_end["result_info"]["count"] == 0


def test_models_search_task_filter_and_object_shape(emu: Emulator) -> None:
    body = emu.ai("GET", "models/search?task=Text%20Embeddings").json()
    names = {model["name"] for model in body["result"]}
    assert names == {
        "@cf/baai/bge-small-en-v1.5",
        "@cf/baai/bge-base-en-v1.5",
        "@cf/baai/bge-large-en-v1.5",
        "@cf/baai/bge-m3",
        "@cf/google/embeddinggemma-300m",
        "@cf/qwen/qwen3-embedding-0.6b",
    }
    small = next(model for model in body["result"] if model["name"] == "@cf/baai/bge-small-en-v1.5")
    assert small["source"] == 1 and small["tags"] == []
    assert small["task"] == {
        "id": "0137cdcf-162a-4108-94f2-1ca59e8c65ee",
        "name": "Text Embeddings",
        "description": small["task"]["description"],
    }
    props = {prop["property_id"]: prop["value"] for prop in small["properties"]}
    assert props["output_dimensions"] == "384"
    assert props["price"] == [{"unit": "per M input tokens", "price": 0.02, "currency": "USD"}]


def test_models_search_text_and_author_filters(emu: Emulator) -> None:
    llama = emu.ai("GET", "models/search?search=llama-3.3").json()["result"]
    assert [model["name"] for model in llama] == ["@cf/meta/llama-3.3-70b-instruct-fp8-fast"]
    props = {prop["property_id"]: prop["value"] for prop in llama[0]["properties"]}
    assert props["context_window"] == "24000" and props["function_calling"] == "true"
    openai = emu.ai("GET", "models/search?author=openai").json()["result"]
    assert {model["name"] for model in openai} >= {"@cf/openai/gpt-oss-120b", "@cf/openai/whisper"}
    assert all(model["name"].startswith("@cf/openai/") for model in openai)


def test_tasks_search(emu: Emulator) -> None:
    tasks = emu.ai("GET", "tasks/search").json()["result"]
    assert {"id": "c329a1f9-323d-4e91-b2aa-582dd4188d34", "name": "Text Generation"}.items() <= tasks[0].items()
    assert len(tasks) == 7


def test_models_search_lists_todays_catalog(emu: Emulator) -> None:
    listed = {m["name"]: m for m in emu.ai("GET", "models/search?per_page=1000").json()["result"]}
    assert "@cf/meta/llama-3.1-8b-instruct" not in listed and "@cf/microsoft/phi-2" not in listed
    assert {"@cf/zai-org/glm-4.7-flash", "@cf/meta/llama-3.1-8b-instruct-fast", "@cf/google/gemma-4-26b-a4b-it"} <= set(
        listed
    )
    kimi = {prop["property_id"]: prop["value"] for prop in listed["@cf/moonshotai/kimi-k2.6"]["properties"]}
    assert kimi["require_workers_paid"] == "true" and kimi["vision"] == "true" and kimi["context_window"] == "262144"
    assert {"unit": "per M cached input tokens", "price": 0.16, "currency": "USD"} in kimi["price"]
    phoenix = {prop["property_id"]: prop["value"] for prop in listed["@cf/leonardo/phoenix-1.0"]["properties"]}
    assert phoenix["price"] == [
        {"unit": "per 512 by 512 tile", "price": 0.0058, "currency": "USD"},
        {"unit": "per step", "price": 0.00011, "currency": "USD"},
    ]
    estimated = {prop["property_id"] for prop in listed["@cf/runwayml/stable-diffusion-v1-5-img2img"]["properties"]}
    assert "price" not in estimated  # Cloudflare publishes none; the gateway's estimate is its own


def test_the_credential_check_call_answers_as_cloudflare_does(locked: Emulator) -> None:
    """The gateway's start-up check: one model, and Cloudflare's 401 / 10000 or 404 / 7003 when it is wrong."""
    check = "/ai/models/search?page=1&per_page=1&hide_experimental=false"
    good = {"Authorization": f"Bearer {TOKEN}"}
    one = locked.request("GET", f"/client/v4/accounts/{ACCOUNT}{check}", headers=good)
    assert one.status == 200 and len(one.json()["result"]) == 1
    assert one.json()["result_info"]["per_page"] == 1 and one.json()["result_info"]["count"] == 1
    wrong = locked.request("GET", f"/client/v4/accounts/{ACCOUNT}{check}", headers={"Authorization": "Bearer x"})
    assert wrong.status == 401
    assert wrong.json() == {
        "result": None,
        "success": False,
        "errors": [{"code": 10000, "message": "Authentication error"}],
        "messages": [],
    }
    other = locked.request("GET", f"/client/v4/accounts/other{check}", headers=good)
    assert other.status == 404 and other.json()["errors"][0]["code"] == 7003
