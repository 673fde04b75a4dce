"""The library's modules form floors: no import cycle anywhere (imports inside functions included), and no
core module imports the teaching helpers (``srgan_lib.teaching``), which sit on top."""
from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "srgan_lib"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """``{module: {srgan_lib modules it imports}}``, every import statement of the file counted
    (``from package import name`` counts as the submodule when ``name`` is one, else the package)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against this module's package
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod for a in node.names]
            for t in targets:
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t.startswith("srgan_lib") and t != name:
                    edges.add(t)
        graph[name] = edges
    return graph


def _cycle(graph):
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        state[n] = 2
        stack.pop()
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_no_import_cycle():
    graph = import_graph()
    # a package's __init__ gathers its submodules' names: a submodule that imports its own package is the
    # cycle that matters, so the package -> submodule edges stay in the graph
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_core_modules_do_not_import_teaching():
    graph = import_graph()
    bad = {m: sorted(t for t in ts if t.startswith("srgan_lib.teaching"))
           for m, ts in graph.items() if not m.startswith("srgan_lib.teaching")}
    assert not {m: ts for m, ts in bad.items() if ts}


def test_the_graph_sees_imports_inside_functions_and_packages():
    graph = import_graph()
    assert "srgan_lib.weights" in graph["srgan_lib.methods"]  # make_method's import inside the function
    assert "srgan_lib.data.lookup" in graph["srgan_lib.data"]  # the package gathers its modules
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_commands_live_in_the_cli_package():
    """One home for commands: only ``srgan_lib.cli`` imports argparse, and no other module imports it."""
    graph = import_graph()
    users = {m for m, ts in graph.items() if not m.startswith("srgan_lib.cli") and any(t.startswith("srgan_lib.cli")
                                                                                         for t in ts)}
    assert not users, sorted(users)
    with_argparse = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                           if re.search(r"^\s*(import|from) argparse\b", p.read_text(encoding="utf-8"), re.M)
                           and p.parent.name != "cli")
    assert not with_argparse, with_argparse
    assert {"srgan_lib.cli.eval", "srgan_lib.cli.train", "srgan_lib.cli.upscale", "srgan_lib.cli.export",
            "srgan_lib.cli.mos", "srgan_lib.cli.data"} <= set(graph)


def test_backend_code_lives_in_the_seam():
    """TensorFlow and JAX are imported only by the backend seam, the train step, the device loop and
    the TensorBoard writer; everything else is keras.ops."""
    allowed = {"backend.py", "train/trainer.py", "train/loop.py", "train/monitor.py"}
    found = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                   if re.search(r"^\s*(import|from) (tensorflow|jax)\b", p.read_text(encoding="utf-8"), re.M))
    assert set(found) <= allowed, sorted(set(found) - allowed)
