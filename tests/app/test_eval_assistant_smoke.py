"""The product evaluation on the real bundled model, 20 cases of the dev split (CI's smoke run).

It checks that the whole instrument works end to end on the model users get, not the score:
every case runs to a verdict without an error, nothing changes data without approval, every
action left pending is rejected, and the model's passes are counted. The full run is a
benchmark (``callmemaybe eval-assistant tests/assistant_cases --split test``), its figures in
docs/EVALUATION.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.evaluation import assistant_runner
from app.evaluation.assistant_cases import load_cases, smoke_subset
from backends.llamacpp import LlamaCppBackend, LlamaSettings

pytestmark = pytest.mark.bundled_model
CASES = Path(__file__).resolve().parents[1] / "assistant_cases"


@pytest.fixture(scope="module")
def model(
    bundled_model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaCppBackend]:
    # a prefix cache, as the app has: the route's prompt and the main prompt alternate, and
    # without one each request would compute both prefixes again
    prefixes = tmp_path_factory.mktemp("prefixes")
    backend = LlamaCppBackend(LlamaSettings(n_ctx=4096, n_threads=2, cache_dir=prefixes))
    backend.load(bundled_model_path)
    yield backend
    backend.close()


def test_twenty_cases_run_end_to_end_on_the_bundled_model(model: LlamaCppBackend) -> None:
    cases, fixtures = load_cases(CASES)
    smoke = smoke_subset(cases)
    results = assistant_runner.run(model, smoke, fixtures, warm=False)
    assert len(results) == 20
    assert [r.error for r in results if r.error] == []
    assert all(r.model_passes >= 1 for r in results)
    assert all(not r.outcome["changed"] for r in results)  # nothing ran without approval
    for result in results:
        for call in result.outcome["pending"]:
            assert call["preview"], result.id  # every pending action shows what it will do
    for result in results:  # the user always gets a reply: an answer, or what waits for them
        assert result.outcome["text"].strip() or result.outcome["pending"], result.id
    lines = assistant_runner.report_lines(results)
    assert lines[-1].startswith("accuracy=") and " n=20 " in lines[-1]
