"""``callmemaybe serve``: the constrained model behind an OpenAI-compatible HTTP endpoint.

Other programs speak the OpenAI chat API; this package offers them the same guarantee the
assistant has: every tool call it returns was decoded under the grammar built from the tools'
JSON Schemas (:mod:`backends.grammar`) by the same decode loop, and checked against its schema
again before it leaves. It is the model endpoint only: the assistant's connectors (calendar,
notes, files) and its approvals are not reachable from here.

Modules:
    protocol   the request bodies, as pydantic models (what the endpoint accepts)
    translate  OpenAI messages, tools and options to the backend's, completions back to OpenAI
    worker     one generation at a time, a bounded queue, cancellation when a client leaves
    security   loopback by default, a Bearer key compared in constant time, bounded bodies
    app        the Starlette/FastAPI application and its routes
    run        start it with uvicorn (what the CLI calls)
"""
