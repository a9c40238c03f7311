"""Every record id in a route's path is read by the shared bounded parser (RecordId), so an
id no database column can hold (huge, negative, other scripts' digits) is a 404, never a
5xx. Read from the source, so a new route cannot miss it even where the route walk's
random values happen not to reach it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("marketplace", "providers", "matching", "contracts")
PLACEHOLDER = re.compile(r"{([a-z_]+_id)}")


def _route_functions() -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, list[str]]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for decorator in node.decorator_list:
                    if (
                        isinstance(decorator, ast.Call)
                        and decorator.args
                        and isinstance(decorator.args[0], ast.Constant)
                        and isinstance(decorator.args[0].value, str)
                    ):
                        ids = PLACEHOLDER.findall(decorator.args[0].value)
                        if ids:
                            found.append((f"{path.relative_to(ROOT)}:{node.name}", node, ids))
    return found


def test_routes_with_ids_in_their_paths_are_found() -> None:
    assert len(_route_functions()) > 20


def test_every_path_id_a_route_reads_itself_is_a_record_id() -> None:
    wrong = []
    for where, function, ids in _route_functions():
        for argument in [*function.args.args, *function.args.kwonlyargs]:
            if (
                argument.arg in ids
                and ast.unparse(argument.annotation or ast.Name("")) != "RecordId"
            ):
                wrong.append(
                    f"{where}({argument.arg}: {ast.unparse(argument.annotation or ast.Name('?'))})"
                )
    assert wrong == [], "read these ids with marketplace.parsing.RecordId"
