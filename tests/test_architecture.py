"""The architecture rules of pyproject.toml's ``[tool.importlinter]``, held on every test run.

The rules (backends and connectors never import app, each other or Qt; Qt only in app.ui; the
decision policy never imports the connectors, Qt, the CLI, the UI or the evaluation; no import
cycles) are what keeps the layers replaceable, and nothing else would notice a stray import until
it had grown roots. The first test runs import-linter on the real code, as ``lint-imports`` does,
so a failure prints the broken contract and the offending import with its line. The second proves
each contract has teeth: one forbidden import added to the real import graph breaks it (a rule
naming a module that no longer exists would otherwise pass for ever).
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from importlinter import api
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.independence import IndependenceContract
from importlinter.contracts.protected import ProtectedContract
from importlinter.domain.contract import Contract

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

CONTRACT_TYPES: dict[str, type[Contract]] = {
    "forbidden": ForbiddenContract,
    "independence": IndependenceContract,
    "protected": ProtectedContract,
    "acyclic_siblings": AcyclicSiblingsContract,
}


def test_the_code_keeps_every_architecture_contract() -> None:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(CONFIG)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"import-linter: a contract is broken\n{result.stdout}"
    assert "0 broken" in result.stdout, result.stdout


@pytest.fixture(scope="module")
def configuration() -> dict:
    return api.read_configuration(str(CONFIG))


@pytest.fixture(scope="module")
def import_graph(configuration: dict) -> grimp.ImportGraph:
    """The real import graph, built with the options the contracts are checked with."""
    options = configuration["session_options"]
    return grimp.build_graph(
        *options["root_packages"],
        include_external_packages=options.get("include_external_packages") == "True",
        exclude_type_checking_imports=options.get("exclude_type_checking_imports") == "True",
        cache_dir=None,
    )


@pytest.fixture(scope="module")
def broken_today(configuration: dict, import_graph: grimp.ImportGraph) -> set[str]:
    return _broken_contracts(configuration, import_graph)


def _broken_contracts(configuration: dict, graph: grimp.ImportGraph) -> set[str]:
    broken = set()
    for options in configuration["contracts_options"]:
        contract = CONTRACT_TYPES[options["type"]](
            name=options["name"],
            session_options=configuration["session_options"],
            contract_options=options,
        )
        if not contract.check(copy.deepcopy(graph), verbose=False).kept:
            broken.add(options["id"])
    return broken


@pytest.mark.parametrize(
    ("importer", "imported", "contract_id"),
    [
        ("backends.base", "app.settings", "lower-layers"),
        ("connectors.tool", "app.paths", "lower-layers"),
        ("connectors.tool", "backends.schema", "backends-connectors"),
        ("backends.schema", "connectors.tool", "backends-connectors"),
        ("backends.base", "PySide6", "no-qt-below-app"),
        ("connectors.registry", "PySide6", "qt-in-ui"),
        ("app.settings", "PySide6", "qt-in-ui"),
        ("app.policy", "connectors.registry", "policy"),
        ("app.policy", "PySide6", "policy"),
        ("app.policy", "app.cli", "policy"),
        ("app.policy", "app.ui.window", "policy"),
        ("app.policy", "app.evaluation.runner", "policy"),
        ("app.paths", "app.settings", "no-cycles"),  # app.settings imports app.paths
    ],
)
def test_one_forbidden_import_breaks_its_contract(
    configuration: dict,
    import_graph: grimp.ImportGraph,
    broken_today: set[str],
    importer: str,
    imported: str,
    contract_id: str,
) -> None:
    assert contract_id in {c["id"] for c in configuration["contracts_options"]}
    assert contract_id not in broken_today  # so it is the added import that breaks it
    graph = copy.deepcopy(import_graph)
    graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="import")

    assert contract_id in _broken_contracts(configuration, graph)
