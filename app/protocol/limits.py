"""Bounds on everything a request can make the gateway do (docs/limits.md says why each is what it is).

They are enforced by the wire models' validator (`app/protocol/openai.py`), so a breach is a 400 naming
the parameter before any upstream call or conversion, and `/openapi.json` shows each one.
"""

from __future__ import annotations

MAX_MESSAGES = 2048  # a long agent session is a few hundred; the body limit caps the text itself
MAX_CONTENT_PARTS = 256  # per message: text pieces and images
MAX_TOOLS = 128  # OpenAI's limit
MAX_TOOL_CALLS = 128  # per assistant message: no more than there can be tools
TOOL_NAME = r"^[a-zA-Z0-9_-]{1,64}$"  # OpenAI's rule for function names (Workers AI refuses an empty one)
MAX_STOP = 4  # OpenAI's limit
MAX_STOP_CHARS = 128  # each stop sequence: they are searched for in every streamed chunk
MAX_N = 8  # each choice is its own Workers AI call (Workers AI has no `n`)
MAX_LOGIT_BIAS = 300  # OpenAI's limit (entries); values -100..100
MAX_METADATA = 16  # OpenAI's limit: 16 pairs, keys up to 64 characters, values up to 512
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512
MAX_NAME_CHARS = 256  # model ids, `user`, tool call ids, schema names, content part types
MAX_TOKENS = 2**31 - 1  # max_tokens, max_completion_tokens, top_k: what a 32-bit server field holds
SEED_MIN, SEED_MAX = -(2**63), 2**63 - 1  # OpenAI's seed is a 64-bit integer
MAX_PROMPTS = 2048  # legacy completions: strings in a `prompt` list (they are joined)
MAX_INPUTS = 2048  # embeddings: OpenAI's limit of inputs per request
MAX_INPUT_TOKENS = 8192  # embeddings: token ids in one input (OpenAI's limit is 8191 tokens an input)
MAX_TOKEN_ID = 2**31 - 1  # embeddings: larger than any encoding's ids (cl100k_base's end at 100276)
MAX_DIMENSIONS = 8192  # embeddings: above any model's vector size
JSON_DEPTH = 200  # nesting of the whole body: the JSON parser's own limit
