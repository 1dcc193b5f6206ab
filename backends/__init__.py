"""Model runtimes behind one interface, chat templates, grammars, tool-call parsing, model files.

Nothing here imports ``app``, ``connectors`` or Qt: backends know JSON Schemas and messages only.
Heavy runtimes (llama-cpp-python, mlx) are imported lazily by the module that wraps them.
"""
