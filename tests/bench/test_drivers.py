from __future__ import annotations

import pytest

from bench.drivers import Request, ResponseParser, lua_script, parse_wrk_output


def test_parser_frames_content_length_responses_fed_in_pieces() -> None:
    parser = ResponseParser()
    response = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello"
    assert parser.feed(response[:20]) == []
    assert parser.feed(response[20:-2]) == []
    assert parser.feed(response[-2:] + response) == [200, 200]


def test_parser_frames_chunked_streams_across_reads() -> None:
    head = b"HTTP/1.1 503 Service Unavailable\r\ntransfer-encoding: chunked\r\n\r\n"
    body = b"6\r\ndata: \r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"
    parser = ResponseParser()
    completed = [status for byte in range(len(head + body)) for status in parser.feed((head + body)[byte : byte + 1])]
    assert completed == [503]


def test_parser_treats_missing_length_as_empty_body() -> None:
    assert ResponseParser().feed(b"HTTP/1.1 204 No Content\r\n\r\n") == [204]


def test_request_encodes_a_keep_alive_post() -> None:
    raw = Request(8080, "/v1/x", b'{"a":1}', (("Authorization", "Bearer k"),)).encode()
    assert raw.startswith(b"POST /v1/x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n")
    assert raw.endswith(b'Authorization: Bearer k\r\nContent-Length: 7\r\n\r\n{"a":1}')


def test_lua_script_sets_method_path_body_headers_and_summary() -> None:
    script = lua_script(Request(1, "/ai/run/@cf/meta/x", b'{"stream":true}', (("Authorization", "Bearer k"),)))
    assert 'wrk.path = "/ai/run/@cf/meta/x"' in script
    assert 'wrk.body = [==[{"stream":true}]==]' in script
    assert 'wrk.headers["Authorization"] = "Bearer k"' in script
    assert "latency:percentile(99)" in script


def test_lua_script_refuses_a_body_it_cannot_quote() -> None:
    with pytest.raises(ValueError):
        lua_script(Request(1, "/", b'"]==]"'))


def test_wrk_summary_is_parsed_and_errors_summed() -> None:
    out = (
        "Running 1s test\n"
        'WRK_JSON {"requests":3000,"duration_us":1500000,"connect":0,"read":1,"write":0,"status":2,'
        '"timeout":0,"p50_us":250.0,"p99_us":900.5,"mean_us":300.0,"max_us":5000.0}\n'
    )
    result = parse_wrk_output(out)
    assert (result.requests, result.errors, result.rps) == (3000, 3, 2000)
    assert (result.p50_ms, result.p99_ms) == (0.25, 0.9005)


def test_wrk_without_summary_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        parse_wrk_output("unable to connect")
