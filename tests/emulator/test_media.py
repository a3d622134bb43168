"""Embeddings, images, speech recognition, translation, text-to-speech and image-to-text."""

from __future__ import annotations

import base64
import math
import struct
import zlib

import orjson

from tests.emulator.conftest import Emulator
from tests.samples import wav


def test_embeddings_shape_and_determinism(emu: Emulator) -> None:
    result = emu.run("@cf/baai/bge-small-en-v1.5", {"text": ["a", "b", "a"]}).json()["result"]
    assert result["shape"] == [3, 384] and result["pooling"] == "mean"
    first, second, again = result["data"]
    assert len(first) == 384
    assert math.isclose(sum(value * value for value in first), 1.0, rel_tol=1e-9)
    assert first == again and first != second
    cls = emu.run("@cf/baai/bge-small-en-v1.5", {"text": "a", "pooling": "cls"}).json()["result"]
    assert cls["pooling"] == "cls" and cls["data"][0] != first


def test_embedding_dims_and_gemma_has_no_pooling(emu: Emulator) -> None:
    for model, dims in (
        ("@cf/baai/bge-base-en-v1.5", 768),
        ("@cf/baai/bge-large-en-v1.5", 1024),
        ("@cf/baai/bge-m3", 1024),
    ):
        assert emu.run(model, {"text": "x"}).json()["result"]["shape"] == [1, dims]
    gemma = emu.run("@cf/google/embeddinggemma-300m", {"text": "x"}).json()["result"]
    assert gemma["shape"] == [1, 768] and "pooling" not in gemma


def test_embedding_limits(emu: Emulator) -> None:
    assert emu.run("@cf/baai/bge-small-en-v1.5", {"text": ["x"] * 100}).status == 200
    too_many = emu.run("@cf/baai/bge-small-en-v1.5", {"text": ["x"] * 101})
    assert too_many.status == 400 and too_many.json()["errors"][0]["code"] == 5006
    assert "maxItems 100" in too_many.json()["errors"][0]["message"]
    assert emu.run("@cf/baai/bge-small-en-v1.5", {"text": [""]}).json()["errors"][0]["code"] == 5006
    long = emu.run("@cf/baai/bge-small-en-v1.5", {"text": "w " * 513})
    assert long.status == 400 and long.json()["errors"][0]["code"] == 3030
    assert emu.run("@cf/baai/bge-m3", {"text": "w " * 513}).status == 200


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    ihdr = data[16 : 16 + 13]
    assert struct.unpack(">I", data[29:33])[0] == zlib.crc32(b"IHDR" + ihdr)
    assert data.endswith(b"IEND\xaeB`\x82")
    width, height = struct.unpack(">II", ihdr[:8])
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int]:
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    offset = 2
    while data[offset] == 0xFF and data[offset + 1] != 0xC0:
        offset += 2 + struct.unpack(">H", data[offset + 2 : offset + 4])[0]
    height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
    return width, height


def test_sdxl_returns_real_png_of_requested_size(emu: Emulator) -> None:
    reply = emu.run("@cf/stabilityai/stable-diffusion-xl-base-1.0", {"prompt": "a cat", "width": 512, "height": 768})
    assert reply.status == 200 and reply.headers["content-type"] == "image/png"
    assert _png_size(reply.body) == (512, 768)
    default = emu.run("@cf/lykon/dreamshaper-8-lcm", {"prompt": "a cat"})
    assert _png_size(default.body) == (1024, 1024)


def test_lightning_returns_jpeg_labelled_png(emu: Emulator) -> None:
    reply = emu.run("@cf/bytedance/stable-diffusion-xl-lightning", {"prompt": "a dog", "width": 640, "height": 320})
    assert reply.headers["content-type"] == "image/png"  # what the schema says; the bytes are JPEG
    assert _jpeg_size(reply.body) == (640, 320)


def test_phoenix_returns_raw_jpeg_and_checks_its_schema(emu: Emulator) -> None:
    reply = emu.run("@cf/leonardo/phoenix-1.0", {"prompt": "a dog", "width": 512, "height": 256, "num_steps": 50})
    assert reply.headers["content-type"] == "image/jpeg" and _jpeg_size(reply.body) == (512, 256)
    for bad in ({"prompt": "x", "num_steps": 51}, {"prompt": "x", "guidance": 1}, {"prompt": "x", "width": 2049}):
        assert emu.run("@cf/leonardo/phoenix-1.0", bad).status == 400, bad


def test_lucid_origin_returns_base64_jpeg(emu: Emulator) -> None:
    result = emu.run("@cf/leonardo/lucid-origin", {"prompt": "a fox", "steps": 40}).json()["result"]
    assert _jpeg_size(base64.b64decode(result["image"])) == (1120, 1120)
    assert emu.run("@cf/leonardo/lucid-origin", {"prompt": "x", "steps": 41}).status == 400
    assert emu.run("@cf/leonardo/lucid-origin", {"prompt": "x", "guidance": 11}).status == 400


def _form(fields: dict[str, str], files: dict[str, bytes]) -> tuple[bytes, str]:
    parts = [f'--b0\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
    for name, data in files.items():
        head = f'--b0\r\nContent-Disposition: form-data; name="{name}"; filename="x.png"\r\nContent-Type: image/png'
        parts.append(head.encode() + b"\r\n\r\n" + data + b"\r\n")
    return b"".join(parts) + b"--b0--\r\n", "multipart/form-data; boundary=b0"


def test_flux2_takes_multipart_and_answers_base64(emu: Emulator) -> None:
    model = "@cf/black-forest-labs/flux-2-klein-4b"
    body, content_type = _form({"prompt": "a cat", "width": "512", "height": "768", "steps": "20"}, {})
    reply = emu.run(model, data=body, headers={"Content-Type": content_type})
    assert reply.status == 200, reply.body
    assert _png_size(base64.b64decode(reply.json()["result"]["image"])) == (512, 768)
    body, content_type = _form({"prompt": "make it blue"}, {"input_image_0": b"\x89PNG\r\n\x1a\n..."})
    assert emu.run(model, data=body, headers={"Content-Type": content_type}).status == 200
    assert emu.run(model, {"prompt": "a cat"}).json()["errors"][0]["code"] == 5006  # JSON is refused
    body, content_type = _form({"prompt": "a cat", "steps": "51"}, {})
    assert emu.run(model, data=body, headers={"Content-Type": content_type}).status == 400


def test_flux_returns_base64_jpeg_in_envelope(emu: Emulator) -> None:
    reply = emu.run("@cf/black-forest-labs/flux-1-schnell", {"prompt": "a fox", "steps": 4, "width": 300})
    assert reply.headers["content-type"] == "application/json"
    image = base64.b64decode(reply.json()["result"]["image"])
    assert _jpeg_size(image) == (1024, 1024)
    assert emu.run("@cf/black-forest-labs/flux-1-schnell", {"prompt": "x", "steps": 9}).status == 400


def test_image_validation(emu: Emulator) -> None:
    sdxl = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
    for bad in ({}, {"prompt": ""}, {"prompt": "x", "width": 100}, {"prompt": "x", "num_steps": 21}):
        reply = emu.run(sdxl, bad)
        assert reply.status == 400 and reply.json()["errors"][0]["code"] == 5006, bad
    img2img = "@cf/runwayml/stable-diffusion-v1-5-img2img"
    assert emu.run(img2img, {"prompt": "x"}).status == 400
    assert emu.run(img2img, {"prompt": "x", "image_b64": "not base64!"}).status == 400
    assert emu.run(img2img, {"prompt": "x", "image_b64": base64.b64encode(b"img").decode()}).status == 200
    assert emu.run(img2img, {"prompt": "x", "image": [1, 2, 3]}).headers["content-type"] == "image/png"


def test_whisper_binary_and_json_forms(emu: Emulator) -> None:
    audio = wav("hello big world", seconds=1.5)
    raw = emu.run("@cf/openai/whisper", data=audio, headers={"Content-Type": "audio/wav"}).json()["result"]
    assert raw["text"] == "hello big world" and raw["word_count"] == 3
    assert [word["word"] for word in raw["words"]] == ["hello", "big", "world"]
    assert raw["words"][-1]["end"] == 1.5 and raw["vtt"].startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n")
    as_json = emu.run("@cf/openai/whisper-tiny-en", {"audio": list(b"ID3" + bytes(40))}).json()["result"]
    assert as_json["text"] == "This is a transcription from the Workers AI emulator."
    empty = emu.run("@cf/openai/whisper", data=b"", headers={"Content-Type": "audio/wav"})
    assert empty.status == 400


def test_audio_no_decoder_takes_is_3010(emu: Emulator) -> None:
    reply = emu.run("@cf/openai/whisper", data=b"%PDF-1.7 not audio", headers={"Content-Type": "audio/wav"})
    assert reply.status == 400 and reply.json()["errors"][0]["code"] == 3010


def test_whisper_large_v3_turbo(emu: Emulator) -> None:
    audio = base64.b64encode(wav("Bonjour tout le monde. Comment allez-vous?", seconds=2.5)).decode()
    result = emu.run("@cf/openai/whisper-large-v3-turbo", {"audio": audio, "language": "fr"}).json()["result"]
    assert result["text"] == "Bonjour tout le monde. Comment allez-vous?"
    assert result["transcription_info"] == {
        "language": "fr", "language_probability": 1.0, "duration": 2.5, "duration_after_vad": 2.5,
    }  # fmt: skip
    assert [s["text"] for s in result["segments"]] == ["Bonjour tout le monde.", "Comment allez-vous?"]
    assert result["segments"][1]["end"] == 2.5 and result["segments"][0]["words"][0]["word"] == "Bonjour"
    translated = emu.run("@cf/openai/whisper-large-v3-turbo", {"audio": audio, "task": "translate"}).json()
    assert translated["result"]["text"].startswith("[en] Bonjour")
    assert emu.run("@cf/openai/whisper-large-v3-turbo", {"task": "transcribe"}).status == 400


def test_nova3_takes_the_raw_body_and_answers_deepgram(emu: Emulator) -> None:
    reply = emu.run("@cf/deepgram/nova-3", data=wav("hi there"), headers={"Content-Type": "audio/wav"})
    best = reply.json()["result"]["results"]["channels"][0]["alternatives"][0]
    assert best["transcript"] == "hi there" and [w["word"] for w in best["words"]] == ["hi", "there"]
    as_json = emu.run("@cf/deepgram/nova-3", {"audio": {"body": "AAAA", "contentType": "audio/wav"}})
    assert as_json.status == 400 and as_json.json()["errors"][0]["code"] == 5006


def test_m2m100_translation(emu: Emulator) -> None:
    result = emu.run("@cf/meta/m2m100-1.2b", {"text": "hi\nthere", "target_lang": "french"}).json()["result"]
    assert result == {"translated_text": "[fr] hi\nthere"}
    by_code = emu.run("@cf/meta/m2m100-1.2b", {"text": "x", "source_lang": "english", "target_lang": "es"})
    assert by_code.json()["result"]["translated_text"] == "[es] x"
    assert emu.run("@cf/meta/m2m100-1.2b", {"text": "x", "target_lang": "klingon"}).status == 400
    assert emu.run("@cf/meta/m2m100-1.2b", {"text": "x"}).status == 400


def test_m2m100_marks_chinese_in_simplified_script_and_takes_all_its_codes(emu: Emulator) -> None:
    chinese = emu.run("@cf/meta/m2m100-1.2b", {"text": "Hello", "source_lang": "en", "target_lang": "zh"})
    assert chinese.json()["result"] == {"translated_text": "[zh] 译文 Hello"}
    cebuano = emu.run("@cf/meta/m2m100-1.2b", {"text": "Hello", "source_lang": "ceb", "target_lang": "yo"})
    assert cebuano.json()["result"] == {"translated_text": "[yo] Hello"}
    empty = emu.run("@cf/meta/m2m100-1.2b", {"text": "", "target_lang": "de"})
    assert empty.status == 400 and empty.json()["errors"][0]["code"] == 5006


def test_melotts_returns_base64_mp3(emu: Emulator) -> None:
    result = emu.run("@cf/myshell-ai/melotts", {"prompt": "hello there", "lang": "en"}).json()["result"]
    audio = base64.b64decode(result["audio"])
    assert audio.startswith(b"ID3") and b"\xff\xfb" in audio[:200]
    assert emu.run("@cf/myshell-ai/melotts", {"lang": "en"}).status == 400


def test_aura_returns_raw_mpeg(emu: Emulator) -> None:
    reply = emu.run("@cf/deepgram/aura-1", {"text": "hello", "speaker": "luna"})
    assert reply.headers["content-type"] == "audio/mpeg"
    assert reply.body.startswith(b"ID3")
    assert emu.run("@cf/deepgram/aura-1", {"text": "hello", "speaker": "nobody"}).status == 400


def test_llava_describes_image(emu: Emulator) -> None:
    result = emu.run("@cf/llava-hf/llava-1.5-7b-hf", {"image": [1, 2, 3, 4], "prompt": "What is it?"}).json()
    assert result["result"]["description"].startswith("The image (4 bytes)")
    assert result["result"]["description"].endswith("What is it?")
    short = emu.run("@cf/llava-hf/llava-1.5-7b-hf", {"image": [1], "max_tokens": 2}).json()["result"]
    assert short["description"] == "The image"
    assert orjson.loads(emu.run("@cf/llava-hf/llava-1.5-7b-hf", {"prompt": "x"}).body)["errors"][0]["code"] == 5006


def test_aura_encodings_and_containers(emu: Emulator) -> None:
    cases = {
        ("linear16", "wav"): ("audio/wav", b"RIFF"),
        ("linear16", "none"): ("application/octet-stream", b"\0\0"),
        ("flac", None): ("audio/flac", b"fLaC"),
        ("opus", "ogg"): ("audio/ogg", b"OggS"),
        ("aac", None): ("audio/aac", b"ID3"),
    }
    for (encoding, container), (media_type, magic) in cases.items():
        body = {"text": "hello world", "encoding": encoding, **({"container": container} if container else {})}
        reply = emu.run("@cf/deepgram/aura-2-en", body)
        assert reply.headers["content-type"] == media_type and reply.body.startswith(magic)
    assert emu.run("@cf/deepgram/aura-1", {"text": "x", "encoding": "mp3", "container": "wav"}).status == 400
    assert emu.run("@cf/deepgram/aura-2-es", {"text": "hola", "speaker": "luna"}).status == 400


def test_speech_round_trips_through_speech_recognition(emu: Emulator) -> None:
    spoken = emu.run("@cf/deepgram/aura-1", {"text": "round trip works", "encoding": "linear16", "container": "wav"})
    heard = emu.run("@cf/openai/whisper", data=spoken.body, headers={"Content-Type": "audio/wav"}).json()["result"]
    assert heard["text"] == "round trip works"
