"""Pure audio conversion: sniffing, each family's answer, subtitles, speech payloads."""

from __future__ import annotations

import pytest

from app.convert.audio import Segment, Transcript, Word, transcript_of
from app.convert.sniff import audio_format as sniff
from app.convert.speech import speech_payload
from app.convert.subtitles import cues, render, timestamp
from app.errors import InvalidRequest, UpstreamError
from app.protocol.audio import SpeechRequest
from tests.samples import mp3, wav


@pytest.mark.parametrize(
    ("head", "found"),
    [
        (wav()[:64], "wav"),
        (mp3()[:64], "mp3"),
        (b"\xff\xfb\x90\x64" + bytes(60), "mp3"),
        (b"\xff\xf1\x50\x80" + bytes(60), "aac"),
        (b"OggS\x00\x02" + bytes(58), "ogg"),
        (b"fLaC\x00\x00\x00\x22", "flac"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00", "mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "webm"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", None),
        (b"%PDF-1.7", None),
        (b'{"audio": []}', None),
    ],
)
def test_sniff(head: bytes, found: str | None) -> None:
    result = sniff(head)
    assert (result[0] if result else None) == found


def test_timestamps() -> None:
    assert timestamp(0, ",") == "00:00:00,000"
    assert timestamp(3661.2346, ".") == "01:01:01.235"
    assert timestamp(59.9996, ",") == "00:01:00,000"


def test_whisper_vtt_cues_and_words_are_read() -> None:
    result = {
        "text": " It is a good day",
        "words": [{"word": "It", "start": 0.56, "end": 1}, {"word": "day", "start": 1.32, "end": 1.46}],
        "vtt": "WEBVTT\n\n00:00.560 --> 00:01.460\nIt is a good day\n\n",
    }
    transcript = transcript_of(result)
    assert transcript.text == "It is a good day" and transcript.duration == 1.46
    assert transcript.segments == [Segment(0.56, 1.46, "It is a good day")]
    assert render(transcript, "srt")[0] == b"1\n00:00:00,560 --> 00:00:01,460\nIt is a good day\n"


def test_deepgram_answer_is_read() -> None:
    words = [{"word": "hi", "punctuated_word": "Hi,", "start": 0.1, "end": 0.4}]
    transcript = transcript_of({"results": {"channels": [{"alternatives": [{"transcript": "Hi,", "words": words}]}]}})
    assert transcript == Transcript("Hi,", None, 0.4, [], [Word("Hi,", 0.1, 0.4)])


def test_a_result_without_text_is_an_upstream_error() -> None:
    with pytest.raises(UpstreamError):
        transcript_of({"words": []})


def test_words_become_sentence_cues_and_bare_text_one_cue() -> None:
    words = [Word(w, i, i + 1) for i, w in enumerate("One two. Three".split())]
    assert [(c.start, c.end, c.text) for c in cues(Transcript("One two. Three", words=words))] == [
        (0, 2, "One two."),
        (2, 3, "Three"),
    ]
    assert cues(Transcript("all of it", duration=4.0)) == [Segment(0.0, 4.0, "all of it")]
    assert render(Transcript("", duration=1.0), "vtt")[0] == b"WEBVTT\n\n"


def test_speech_payloads() -> None:
    aura = speech_payload("@cf/deepgram/aura-1", SpeechRequest(model="x", input="hi", voice="Fable"))
    assert aura == {"text": "hi", "speaker": "helios", "encoding": "mp3"}
    opus = speech_payload(
        "@cf/deepgram/aura-2-en", SpeechRequest(model="x", input="hi", voice={"id": "thalia"}, response_format="opus")
    )
    assert opus == {"text": "hi", "speaker": "thalia", "encoding": "opus", "container": "ogg"}
    melo = speech_payload("@cf/myshell-ai/melotts", SpeechRequest(model="x", input="hi", voice="ko"))
    assert melo == {"prompt": "hi", "lang": "ko"}
    with pytest.raises(InvalidRequest) as caught:
        speech_payload(
            "@cf/myshell-ai/melotts", SpeechRequest(model="x", input="hi", voice="alloy", response_format="aac")
        )
    assert caught.value.param == "response_format" and "available: mp3, wav, pcm" in caught.value.message
