"""Text generation on the run endpoint: agreement gate, validation, then the model family's shape."""

from __future__ import annotations

from dataclasses import replace

from app.emulator import native, openai_shape
from app.emulator.completion import complete
from app.emulator.envelope import ai_error
from app.emulator.models import Family
from app.emulator.outputs import Call, EventStream, JsonResult, Output
from app.emulator.responses_shape import parse_responses_input, response_object
from app.emulator.text_request import parse_text_request

AGREEMENT_REPLY = "Thank you for agreeing to the Llama 3.2 Community License. You can now use the model."


def run_text_generation(call: Call) -> Output:
    """The /ai/run handler for Text Generation models."""
    spec, body = call.spec, call.json()
    if spec.needs_agreement:
        if isinstance(body, dict) and body.get("prompt") == "agree":
            call.agreed.add(call.account)
            return JsonResult({"response": AGREEMENT_REPLY})
        if call.account not in call.agreed:
            raise ai_error(
                5016,
                "User has not agreed to Llama3.2 model terms. Send a request with 'prompt': 'agree' to "
                "accept the license and acceptable use policy.",
            )
    if spec.responses_input and isinstance(body, dict) and "input" in body and "messages" not in body:
        request = parse_responses_input(spec, body)  # answered whole: this input never streams
        return JsonResult(response_object(complete(spec, request, call.script.take(spec.name, request))))
    request = parse_text_request(spec, body)
    completion = complete(spec, request, call.script.take(spec.name, request))
    if call.session and call.prefixes is not None:
        cached = call.prefixes.cached(call.account, spec.name, call.session, request)
        completion = replace(completion, cached_tokens=cached)
    streaming = request.stream and spec.streams and not request.json_mode
    if spec.family is Family.NATIVE:
        if streaming:
            return EventStream(native.stream_events(completion))
        return JsonResult(native.result(completion))
    if streaming:
        return EventStream(openai_shape.chunk_events(completion, run_endpoint=True))
    return JsonResult(openai_shape.completion_object(completion, run_endpoint=True))
