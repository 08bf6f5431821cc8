"""The project's modules import each other without cycles, and none hides an import of a
project module inside a function (the usual way to dodge a cycle).

Parses every module of the Django apps (migrations and management commands included) with
``ast``; nothing is imported. Module-level imports (also inside classes, ``try`` and plain
``if`` blocks; not under ``if TYPE_CHECKING``) are the graph's edges; importing
``a.b.c`` also runs the packages ``a`` and ``a.b`` unless the importer lives inside them.
The one allowed function-level import is in an ``AppConfig.ready`` method, which Django
calls once every model is loaded (importing models from ``apps.py`` itself is an error)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("vmgate", "customers", "routing", "dialpeers")
#: Importable project packages (bench holds data generators a management command reuses).
PROJECT = APPS + ("bench",)


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules():
    mods = {}
    for top in PROJECT:
        for path in (ROOT / top).rglob("*.py"):
            mods[module_name(path)] = path
    return mods


def resolve(name, mods):
    """The project module ``name`` refers to (``pkg.mod.attr`` → ``pkg.mod``), or None."""
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def imported(node, module, is_package, mods):
    """Project modules an Import / ImportFrom node loads, with their parent packages."""
    names = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module
        names = [f"{source}.{alias.name}" for alias in node.names] or [source]
    found = set()
    for name in names:
        if name.split(".")[0] not in PROJECT:
            continue
        target = resolve(name, mods)
        if target is None:
            continue
        found.add(target)
        parts = target.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if parent in mods and not module.startswith(parent + "."):
                found.add(parent)
    return found


def scan():
    """(edges: module → modules imported at module level, function-level imports)."""
    mods = project_modules()
    edges, hidden = {}, []
    for module, path in mods.items():
        if module.split(".")[0] not in APPS:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        where = (module, path, path.name == "__init__.py", mods)
        _visit(tree, where, edges.setdefault(module, set()), hidden, False, False)
    return edges, hidden


def _visit(node, where, targets, hidden, function, allowed):
    module, path, is_package, mods = where
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            found = imported(child, module, is_package, mods) - {module}
            if function and found and not allowed:
                hidden.append(f"{path.relative_to(ROOT)}:{child.lineno} {sorted(found)}")
            elif not function:
                targets.update(found)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            ready = getattr(child, "name", "") == "ready" and path.name == "apps.py"
            _visit(child, where, targets, hidden, True, allowed or ready)
        elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            continue
        else:
            _visit(child, where, targets, hidden, function, allowed)


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan), and self-loops."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def connect(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def test_no_import_cycles_among_the_projects_modules():
    edges, _ = scan()
    assert len(edges) > 100  # the scan did find the project
    assert edges["routing.engine"] >= {"routing.engine.index", "routing.engine.steps"}
    assert cycles(edges) == []


def test_no_project_module_is_imported_inside_a_function():
    _, hidden = scan()
    assert hidden == []


def test_the_checker_sees_a_cycle_and_a_hidden_import():
    """The two checks above can fail: a made-up graph with a cycle, and a made-up module."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    tree = ast.parse("def f():\n    from routing.engine import refs\n")
    node = tree.body[0].body[0]
    mods = project_modules()
    assert imported(node, "vmgate.views", False, mods) == {
        "routing",
        "routing.engine",
        "routing.engine.refs",
    }


def test_the_scan_records_module_level_edges_and_flags_function_level_imports():
    mods = project_modules()
    source = "import routing.models\n\n\ndef f():\n    from dialpeers import models\n"
    where = ("vmgate.example", ROOT / "vmgate" / "example.py", False, mods)
    targets, hidden = set(), []
    _visit(ast.parse(source), where, targets, hidden, False, False)
    assert targets == {"routing", "routing.models"}
    assert hidden == ["vmgate/example.py:5 ['dialpeers', 'dialpeers.models']"]
